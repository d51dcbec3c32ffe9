"""The compare page and its htmx fragment, the reviewer home, and the leads' escalation queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.models import Assignment, Campaign, EscalationResolution, Judgment, Outcome
from annotate.services.assignment import assign_next_pair
from tests.annotate.review_helpers import campaign_with_pairs, rubric_with
from tests.factories import JudgmentFactory, PromptFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def campaign():
    campaign, _ = campaign_with_pairs(3, overlap=2)
    return campaign


def page(client, campaign, **headers):
    return client.get(reverse("review_campaign", args=[campaign.slug]), **headers)


def start(client, campaign):
    """What the page's placeholder does on load: lease a pair with a POST (htmx)."""
    return client.post(reverse("review_next", args=[campaign.slug]), **HTMX)


def post_judgment(client, campaign, assignment, **fields):
    data = {"choice": "left", "strength": "clear", "critique": "", "time_taken_ms": "2500", **fields}
    url = reverse("review_submit", args=[campaign.slug, assignment.pk])
    return client.post(url, data, **HTMX)


def test_the_compare_page_shows_the_prompt_both_answers_and_the_controls(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    response = page(client, campaign)
    assert response.status_code == 200
    lease = Assignment.objects.get(reviewer=alice)
    body = response.content.decode()
    comparison = lease.comparison
    assert comparison.prompt.text in body
    assert comparison.candidate_a.text in body and comparison.candidate_b.text in body
    for label in ("Left better", "Right better", "Tie", "Both bad", "Escalate", "Slight", "Clear", "Strong"):
        assert label in body
    assert 'name="critique"' in body and "review.js" in body and "Keyboard shortcuts" in body


def test_the_left_answer_follows_the_assignments_order(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    lease = Assignment.objects.get(reviewer=alice)
    for a_on_left in (True, False):
        Assignment.objects.filter(pk=lease.pk).update(a_on_left=a_on_left)
        body = page(client, campaign, **HTMX).content.decode()
        a, b = lease.comparison.candidate_a.text, lease.comparison.candidate_b.text
        assert (body.index(a) < body.index(b)) is a_on_left


def test_the_page_is_blind_to_model_names_sources_and_gold(client_for, alice):
    campaign, pairs = campaign_with_pairs(0, gold=1, gold_rate=1.0)
    prompt = PromptFactory(campaign=campaign, locale=pairs[0].prompt.locale, source={"file": "secret-source.jsonl"})
    from tests.factories import ComparisonFactory

    ComparisonFactory(prompt=prompt)
    client = client_for(alice)
    body = start(client, campaign).content.decode().lower() + page(client, campaign).content.decode().lower()
    assert Assignment.objects.get(reviewer=alice).comparison.is_gold
    for secret in ("atlas", "borealis", "secret-source", "gold", "a better", "b better"):
        assert secret not in body


def test_the_page_never_shows_another_reviewers_judgment(client_for, alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=2)
    JudgmentFactory(comparison=pair, reviewer=bob, critique="BOB-THINKS-LEFT-IS-WRONG", outcome=Outcome.B)
    client = client_for(alice)
    body = start(client, campaign).content.decode() + page(client, campaign).content.decode()
    assert Assignment.objects.get(reviewer=alice).comparison == pair
    assert "BOB-THINKS" not in body and "bob" not in body


def test_the_full_page_uses_a_small_fixed_number_of_queries(client_for, alice, campaign, django_assert_num_queries):
    client = client_for(alice)
    start(client, campaign)
    with django_assert_num_queries(10):
        assert page(client, campaign).status_code == 200


def test_the_fragment_is_the_compare_section_only(client_for, alice, campaign, django_assert_num_queries):
    client = client_for(alice)
    start(client, campaign)
    with django_assert_num_queries(10):
        response = page(client, campaign, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="compare"') and "<html" not in body


def test_submitting_swaps_in_the_next_pair_leased_in_the_same_request(
    client_for, alice, campaign, django_assert_num_queries
):
    client = client_for(alice)
    start(client, campaign)
    first = Assignment.objects.get(reviewer=alice)
    with django_assert_num_queries(24):
        response = post_judgment(client, campaign, first)
    assert response.status_code == 200
    judgment = Judgment.objects.get()
    assert judgment.assignment == first and judgment.time_taken_ms == 2500
    following = Assignment.objects.get(reviewer=alice, state=Assignment.State.LEASED)
    body = response.content.decode()
    assert f'data-assignment="{following.pk}"' in body and "<html" not in body
    assert "Today: 1" in body and "Saved." in body


def test_a_plain_form_post_redirects_back_to_the_page(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    first = Assignment.objects.get(reviewer=alice)
    url = reverse("review_submit", args=[campaign.slug, first.pk])
    response = client.post(url, {"choice": "tie"})
    assert response.status_code == 302 and Judgment.objects.count() == 1


def test_validation_errors_come_back_in_the_fragment_with_what_was_typed(client_for, alice):
    campaign, _ = campaign_with_pairs(
        2, rubric=rubric_with({"key": "accuracy", "label": "Accuracy", "scale": 5, "required": True})
    )
    client = client_for(alice)
    start(client, campaign)
    lease = Assignment.objects.get(reviewer=alice)
    response = post_judgment(
        client, campaign, lease, choice="both_bad", strength="", critique="", **{"rating-left-accuracy": "3"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "explain what is wrong" in body and "Accuracy: required" in body
    assert f'data-assignment="{lease.pk}"' in body
    assert 'value="both_bad" data-key="b" checked' in body
    assert 'name="rating-left-accuracy" value="3" checked' in body
    assert not Judgment.objects.exists()


def test_ratings_from_the_form_are_stored(client_for, alice):
    campaign, _ = campaign_with_pairs(1, rubric=rubric_with({"key": "accuracy", "label": "Accuracy", "scale": 5}))
    client = client_for(alice)
    start(client, campaign)
    lease = Assignment.objects.get(reviewer=alice)
    post_judgment(client, campaign, lease, **{"rating-left-accuracy": "5", "rating-right-accuracy": "2"})
    stored = Judgment.objects.get().ratings
    assert stored == (
        {"a": {"accuracy": 5}, "b": {"accuracy": 2}}
        if lease.a_on_left
        else {"a": {"accuracy": 2}, "b": {"accuracy": 5}}
    )


def test_skip_releases_the_lease_and_shows_another_pair(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    first = Assignment.objects.get(reviewer=alice)
    response = client.post(reverse("review_skip", args=[campaign.slug, first.pk]), **HTMX)
    first.refresh_from_db()
    assert first.state == Assignment.State.RELEASED
    following = Assignment.objects.get(reviewer=alice, state=Assignment.State.LEASED)
    assert following.comparison != first.comparison
    assert f'data-assignment="{following.pk}"' in response.content.decode()


def test_undo_within_a_minute_shows_the_same_pair_again(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    first = Assignment.objects.get(reviewer=alice)
    assert "Undo last submission" in post_judgment(client, campaign, first).content.decode()
    response = client.post(reverse("review_undo", args=[campaign.slug]), **HTMX)
    body = response.content.decode()
    assert f'data-assignment="{first.pk}"' in body
    assert 'value="left" data-key="1" checked' in body and 'value="clear" data-key="x" checked' in body
    assert not Judgment.objects.exists()
    # A full reload keeps showing the re-opened pair until it is judged again.
    assert f'data-assignment="{first.pk}"' in page(client, campaign).content.decode()


def test_undo_after_a_minute_says_so(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    post_judgment(client, campaign, Assignment.objects.get(reviewer=alice))
    Judgment.objects.update(created_at=timezone.now() - timedelta(seconds=90))
    response = client.post(reverse("review_undo", args=[campaign.slug]), **HTMX)
    assert "Nothing to undo" in response.content.decode()
    assert Judgment.objects.count() == 1


def test_opening_the_page_leases_nothing_and_asks_for_a_pair_with_a_post(client_for, alice, campaign):
    client = client_for(alice)
    for headers in ({}, HTMX):
        body = page(client, campaign, **headers).content.decode()
        assert not Assignment.objects.exists()
        next_url = reverse("review_next", args=[campaign.slug])
        assert f'hx-post="{next_url}" hx-trigger="load, submit"' in body and "judge-form" not in body
    response = start(client, campaign)
    lease = Assignment.objects.get(reviewer=alice)
    assert f'data-assignment="{lease.pk}"' in response.content.decode()
    assert f'data-assignment="{lease.pk}"' in page(client, campaign).content.decode()
    assert Assignment.objects.count() == 1


def test_asking_again_keeps_the_live_lease(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    start(client, campaign)
    assert Assignment.objects.filter(reviewer=alice).count() == 1


def test_without_javascript_the_start_button_leases_and_goes_back_to_the_page(client_for, alice, campaign):
    client = client_for(alice)
    response = client.post(reverse("review_next", args=[campaign.slug]))
    assert response.status_code == 302 and response.url == reverse("review_campaign", args=[campaign.slug])
    lease = Assignment.objects.get(reviewer=alice)
    assert f'data-assignment="{lease.pk}"' in client.get(response.url).content.decode()


def test_a_plain_form_post_leases_the_next_pair_before_going_back(client_for, alice, campaign):
    client = client_for(alice)
    start(client, campaign)
    first = Assignment.objects.get(reviewer=alice)
    client.post(reverse("review_submit", args=[campaign.slug, first.pk]), {"choice": "tie"})
    following = Assignment.objects.get(reviewer=alice, state=Assignment.State.LEASED)
    assert f'data-assignment="{following.pk}"' in page(client, campaign).content.decode()


def test_an_empty_queue_says_so_clearly(client_for, alice):
    campaign, _ = campaign_with_pairs(0)
    body = page(client_for(alice), campaign).content.decode()
    assert "all caught up" in body and "judge-form" not in body


def test_bob_cannot_see_or_submit_alices_assignment(client_for, alice, bob, campaign):
    lease = assign_next_pair(reviewer=alice, campaign=campaign)
    client = client_for(bob)
    assert post_judgment(client, campaign, lease).status_code == 404
    assert client.post(reverse("review_skip", args=[campaign.slug, lease.pk])).status_code == 404
    lease.refresh_from_db()
    assert lease.state == Assignment.State.LEASED and not Judgment.objects.exists()


def test_a_campaign_outside_the_reviewers_locales_is_not_found(client_for, alice):
    campaign, _ = campaign_with_pairs(2, locale="ja-JP")
    assert page(client_for(alice), campaign).status_code == 404


def test_home_lists_campaigns_with_progress_and_a_start_link(client_for, alice, campaign):
    body = client_for(alice).get(reverse("home")).content.decode()
    assert campaign.name in body and reverse("review_campaign", args=[campaign.slug]) in body
    assert "0 / 6 judgments" in body


def test_home_says_when_nothing_is_left_in_a_campaign(client_for, alice):
    campaign, _ = campaign_with_pairs(0)
    body = client_for(alice).get(reverse("home")).content.decode()
    assert "Nothing left for you to review here" in body


@pytest.fixture
def escalation(alice):
    return JudgmentFactory(reviewer=alice, outcome=Outcome.ESCALATE, strength="", critique="Unsafe advice in both?")


def test_leads_see_escalations_with_the_pair_the_critique_and_the_reviewer(client_for, lena, escalation):
    body = client_for(lena).get(reverse("escalation_list")).content.decode()
    assert "Unsafe advice in both?" in body and "alice" in body
    assert escalation.comparison.candidate_a.text in body and escalation.comparison.prompt.text in body


def test_reviewers_cannot_open_the_escalation_queue(client_for, alice, escalation):
    assert client_for(alice).get(reverse("escalation_list")).status_code == 403


def test_a_lead_resolves_an_escalation_from_the_queue(client_for, lena, escalation):
    client = client_for(lena)
    url = reverse("escalation_resolve", args=[escalation.pk])
    response = client.post(url, {"decision": "discard", "note": ""}, **HTMX)
    assert "say why the pair is discarded" in response.content.decode()
    response = client.post(url, {"decision": "discard", "note": "Prompt is nonsense."}, **HTMX)
    assert "Resolved" in response.content.decode()
    assert EscalationResolution.objects.get().decision == "discard"
    assert Judgment.objects.get(pk=escalation.pk).outcome == Outcome.ESCALATE
    assert client.post(url, {"decision": "a"}).status_code == 409


def test_the_escalations_link_is_in_the_nav_for_leads_only(client_for, alice, lena):
    assert reverse("escalation_list") not in client_for(alice).get(reverse("home")).content.decode()
    assert reverse("escalation_list") in client_for(lena).get(reverse("home")).content.decode()


def test_guidelines_render_markdown_and_escape_html(client_for, alice):
    rubric = rubric_with({"key": "overall", "label": "Overall", "scale": 5})
    rubric.guidelines = "# Judge\n\nPrefer **correct** answers.\n\n- *Tie*: equal\n- <script>alert(1)</script>"
    rubric.save()
    campaign, _ = campaign_with_pairs(1, rubric=rubric)
    client = client_for(alice)
    start(client, campaign)
    body = page(client, campaign).content.decode()
    assert "<h3>Judge</h3>" in body and "<strong>correct</strong>" in body and "<em>Tie</em>" in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_undo_of_a_judgment_from_another_campaign_sends_the_browser_there(client_for, alice, campaign):
    other, _ = campaign_with_pairs(1)
    client = client_for(alice)
    post_judgment(client, other, assign_next_pair(reviewer=alice, campaign=other))
    response = client.post(reverse("review_undo", args=[campaign.slug]), **HTMX)
    assert response.headers["HX-Redirect"] == reverse("review_campaign", args=[other.slug])
    assert not Judgment.objects.exists()


def test_the_page_refuses_a_judgment_once_the_campaign_is_closed(client_for, alice, campaign):
    assignment = assign_next_pair(reviewer=alice, campaign=campaign)
    campaign.status = Campaign.Status.CLOSED
    campaign.save(update_fields=["status"])
    response = post_judgment(client_for(alice), campaign, assignment)
    assert response.status_code == 404
    assert not Judgment.objects.exists()
