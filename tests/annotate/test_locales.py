from __future__ import annotations

from django.urls import reverse

from annotate.models import Locale, Qualification


def test_a_lead_adds_a_locale_and_a_malformed_tag_is_refused(client_for, lena):
    client = client_for(lena)
    assert client.post(reverse("locale_list"), {"code": "de-CH", "name": "Swiss German"}).status_code == 302
    assert Locale.objects.get(code="de-CH").name == "Swiss German"
    refused = client.post(reverse("locale_list"), {"code": "german"})
    assert refused.status_code == 400 and "not a well-formed BCP 47 tag" in refused.content.decode()
    again = client.post(reverse("locale_list"), {"code": "de-CH"})
    assert again.status_code == 400 and "exists already" in again.content.decode()


def test_a_lead_sets_a_reviewers_locales(client_for, lena, alice):
    ja = Locale.objects.get(code="ja-JP")  # lena's
    client = client_for(lena)
    page = client.get(reverse("locale_list")).content.decode()
    assert "alice" in page and reverse("reviewer_qualifications", args=[alice.pk]) in page
    response = client.post(reverse("reviewer_qualifications", args=[alice.pk]), {"locales": [ja.pk]})
    assert response.status_code == 302
    held = Qualification.objects.filter(reviewer=alice)
    assert [q.locale.code for q in held] == ["ja-JP"] and held.get().granted_by == lena  # en-US revoked


def test_only_reviewers_have_qualifications_to_change(client_for, lena):
    assert client_for(lena).get(reverse("reviewer_qualifications", args=[lena.pk])).status_code == 404
