"""Junk typed or forged into the pages' POST forms: each is a 4xx naming the field, never a 500 (PostgreSQL refuses
NUL characters and over-long values with a DataError; SQLite stored them silently)."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotate.models import Assignment, Campaign, EscalationResolution, Judgment, Outcome, Prompt
from tests.annotate.review_helpers import campaign_with_pairs
from tests.factories import JudgmentFactory, LocaleFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
HUGE = "9" * 400


def _upload(client, *, campaign: str = "fresh", rows=(), raw: bytes | None = None, **fields):
    data = raw if raw is not None else "\n".join(json.dumps(row) for row in rows).encode()
    form = {"campaign": campaign, "pairs": "all", "locale": "en-US", **fields}
    return client.post(reverse("import_upload"), {**form, "file": SimpleUploadedFile("rows.jsonl", data)})


def _native(**changes) -> dict:
    row = {"id": "p1", "prompt": "Capital of France?", "candidates": [{"id": "c1", "text": "Paris"}]}
    row["candidates"].append({"id": "c2", "text": "Lyon"})
    return {**row, **changes}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_native(id="p" * 201), "line 1: id: longer than 200 characters"),
        (_native(id=int(HUGE)), "line 1: id: longer than 200 characters"),
        (_native(id=True), "line 1: id: missing or empty id"),
        (_native(candidates=[{"id": "c" * 201, "text": "a"}, {"id": "d", "text": "b"}]), "candidates[0].id: longer"),
        (_native(candidates=[{"id": "c", "text": "a", "model": "m" * 201}, {"id": "d", "text": "b"}]), "[0].model:"),
        (_native(candidates=[{"id": "c", "text": "a"}, {"id": "d", "text": "b", "model_version": "v" * 201}]), "[1]"),
        (_native(prompt="Capital\x00?"), "line 1: prompt: contains a NUL character"),
        (_native(tags={"topic\x00": "geo"}), "line 1: tags: contains a NUL character"),
        ({"prompt": "2+2?", "chosen": "4", "rejected": "5\x00"}, "line 1: rejected: contains a NUL character"),
    ],
)
def test_an_import_row_the_database_cannot_hold_is_named_by_line_and_field(client_for, lena, row, message):
    LocaleFactory(code="en-US")
    response = _upload(client_for(lena), rows=[row])
    assert response.status_code == 400 and message in response.content.decode()
    assert not Prompt.objects.exists() and not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"campaign": "c" * 101}, "line 0: campaign: longer than 100 characters"),
        ({"campaign": "not a slug!"}, "Enter a valid “slug”"),
        ({"pairs": "everything"}, "Select a valid choice"),
    ],
)
def test_the_import_form_names_a_bad_field_with_a_400(client_for, lena, fields, message):
    response = _upload(client_for(lena), rows=[_native()], **fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_import_service_refuses_a_campaign_slug_too_long_to_store(db):
    from annotate.services.importing import ImportRejected, import_comparisons

    with pytest.raises(ImportRejected, match="line 0: campaign: longer than 100 characters"):
        import_comparisons(campaign_slug="c" * 101, data=json.dumps(_native()).encode(), default_locale="en-US")


@pytest.fixture
def lease(client_for, alice):
    campaign, _ = campaign_with_pairs(2)
    client = client_for(alice)
    client.post(reverse("review_next", args=[campaign.slug]), **HTMX)
    return client, campaign, Assignment.objects.get(reviewer=alice)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"choice": "both_bad", "critique": "Both\x00wrong"}, "critique", "Null characters are not allowed"),
        ({"choice": "tie", "time_taken_ms": "1e400"}, "time_taken_ms", "Enter a whole number"),
        ({"choice": "tie", "time_taken_ms": "-5"}, "time_taken_ms", "greater than or equal to 0"),
        ({"choice": "tie", "time_taken_ms": "9" * 5000}, "time_taken_ms", "Enter a whole number"),
        ({"choice": "left", "strength": "clear", "rating-left-overall": HUGE}, "overall", "pick a whole number"),
        ({"choice": "left", "strength": "clear", "rating-left-overall": "\x00"}, "overall", "pick a whole number"),
        ({"choice": "sideways"}, "choice", "pick left, right, tie, both bad or escalate"),
        ({"choice": "left", "strength": "\x00"}, "strength", "pick slight, clear or strong"),
    ],
)
def test_a_forged_judgment_post_is_a_400_naming_the_field(lease, fields, field, message):
    client, campaign, assignment = lease
    response = client.post(reverse("review_submit", args=[campaign.slug, assignment.pk]), fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Judgment.objects.exists()
    swapped = client.post(reverse("review_submit", args=[campaign.slug, assignment.pk]), fields, **HTMX)
    assert swapped.status_code == 200 and message in swapped.content.decode()  # htmx swaps 2xx only


def test_a_long_time_on_the_pair_is_still_saved(lease):
    client, campaign, assignment = lease
    client.post(reverse("review_submit", args=[campaign.slug, assignment.pk]), {"choice": "tie", "time_taken_ms": HUGE})
    assert Judgment.objects.get().time_taken_ms == 24 * 3600 * 1000  # clamped by the service, as before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"decision": "discard", "note": "Nonsense\x00prompt"}, "Null characters are not allowed"),
        ({"decision": HUGE}, "pick A better, B better, tie, both bad or discard pair"),
    ],
)
def test_a_forged_escalation_answer_is_a_400_naming_the_field(client_for, lena, fields, message):
    escalation = JudgmentFactory(outcome=Outcome.ESCALATE, strength="", critique="Unsafe?")
    response = client_for(lena).post(reverse("escalation_resolve", args=[escalation.pk]), fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not EscalationResolution.objects.exists()
