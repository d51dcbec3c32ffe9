"""What reviewers must not learn: the source label of imported rows (through ids or creation order), which pairs are
gold (through any number they see), and nothing changes when they merely open a page."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from annotate.models import Assignment, Campaign, Candidate, Comparison, Prompt
from annotate.review_selectors import side_id
from annotate.services.importing import import_comparisons
from tests.annotate.review_helpers import campaign_with_pairs

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TRL_ROWS = [
    {"prompt": f"Question {n}: what is {n} + {n}?", "chosen": f"It is {2 * n}.", "rejected": f"Maybe {2 * n + 1}."}
    for n in range(10)
]


def _jsonl(rows) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def _import(slug: str, rows) -> Campaign:
    return import_comparisons(campaign_slug=slug, data=_jsonl(rows), default_locale="en-US").campaign


def test_reviewers_see_opaque_side_ids_never_database_ids(api_for, alice):
    campaign = _import("trl", TRL_ROWS)
    api, seen = api_for(alice), []
    for _ in TRL_ROWS:
        body = api.post(reverse("api_next_assignment", args=[campaign.slug])).json()
        assignment = Assignment.objects.select_related("comparison").get(pk=body["assignment"])
        a, b = assignment.comparison.candidate_a_id, assignment.comparison.candidate_b_id
        left, right = (a, b) if assignment.a_on_left else (b, a)
        assert body["left"]["id"] == side_id(assignment_id=assignment.pk, candidate_id=left)
        assert body["right"]["id"] == side_id(assignment_id=assignment.pk, candidate_id=right)
        seen += [body["left"]["id"], body["right"]["id"]]
        judged = api.post(
            reverse("api_assignment_judgment", args=[assignment.pk]),
            {"choice": "left", "strength": "clear"},
            format="json",
        )
        assert judged.status_code == 201
        assert set(judged.json()) == {"judgment", "assignment", "choice", "strength", "critique", "created_at"}
    database_ids = {str(pk) for pk in Candidate.objects.values_list("pk", flat=True)}
    database_ids |= {str(pk) for pk in Comparison.objects.values_list("pk", flat=True)}
    assert len(set(seen)) == 20 and not set(seen) & database_ids
    assert not any(value.isdigit() for value in seen)


def test_the_review_page_carries_no_candidate_comparison_or_prompt_id(client_for, alice):
    campaign = _import("trl", TRL_ROWS)
    client = client_for(alice)
    client.post(reverse("review_next", args=[campaign.slug]), **HTMX)
    lease = Assignment.objects.get(reviewer=alice)
    html = client.get(reverse("review_campaign", args=[campaign.slug])).content.decode()
    data = set(re.findall(r'(data-[\w-]+)(?:="([^"]*)")?', html))
    assert {value for name, value in data if name == "data-assignment"} == {str(lease.pk)}
    assert {name for name, _ in data} <= {"data-assignment", "data-key", "data-side", "data-progress", "data-today"} | {
        "data-shortcuts-button",
        "data-undo",
        "data-guidelines",
        "data-submit",
        "data-skip",
    }
    fields = set(re.findall(r'name="([^"]*)"', html)) - {"viewport"}
    assert fields == {"csrfmiddlewaretoken", "time_taken_ms", "choice", "strength", "critique"} | {
        "rating-left-overall",
        "rating-right-overall",
    }
    urls = set(re.findall(r'(?:action|hx-post|formaction)="([^"]*)"', html)) - {reverse("logout")}
    assert urls == {reverse(name, args=[campaign.slug, lease.pk]) for name in ("review_submit", "review_skip")}


def test_import_order_is_the_same_whichever_answer_was_chosen(db):
    from tests.factories import LocaleFactory

    LocaleFactory(code="en-US")
    as_given = _import("as-given", TRL_ROWS)
    swapped = _import("swapped", [{**row, "chosen": row["rejected"], "rejected": row["chosen"]} for row in TRL_ROWS])

    def creation_order(campaign):
        return [
            [c.text for c in prompt.candidates.order_by("pk")]
            + [prompt.comparisons.get().candidate_a.text, prompt.comparisons.get().candidate_b.text]
            for prompt in Prompt.objects.filter(campaign=campaign).order_by("pk")
        ]

    assert creation_order(as_given) == creation_order(swapped)
    chosen_first = [
        prompt.candidates.order_by("pk").first().external_id == prompt.source["label"]["chosen"]
        for prompt in Prompt.objects.filter(campaign=as_given)
    ]
    assert 0 < sum(chosen_first) < len(chosen_first)  # chosen-first in 10 of 10 was the leak


def _visible_numbers(client, campaign) -> dict[str, str]:
    """Every count a reviewer sees on the compare page and on home."""
    page = client.get(reverse("review_campaign", args=[campaign.slug])).content.decode()
    home = client.get(reverse("home")).content.decode()
    return {
        "page progress": re.search(r"data-progress>([^<]*)<", page).group(1),
        "page today": re.search(r"data-today>([^<]*)<", page).group(1),
        "home today": re.search(r"You have made [^.]*\.", home).group(0),
        "home campaign": re.search(r"\d+ pairs? · [^<]*by you", home).group(0),
    }


def _submit_current(client, campaign, reviewer) -> None:
    lease = Assignment.objects.get(reviewer=reviewer, state=Assignment.State.LEASED)
    client.post(reverse("review_submit", args=[campaign.slug, lease.pk]), {"choice": "tie"}, **HTMX)


def test_a_gold_pair_moves_every_number_a_reviewer_sees_exactly_as_a_regular_pair(client_for, alice):
    campaign, _ = campaign_with_pairs(4, overlap=2, gold=4, gold_rate=1.0)
    client = client_for(alice)
    client.post(reverse("review_next", args=[campaign.slug]), **HTMX)
    assert Assignment.objects.get(reviewer=alice).comparison.is_gold
    before_gold = _visible_numbers(client, campaign)
    Campaign.objects.filter(pk=campaign.pk).update(gold_rate=0.0)  # the next lease (taken on submit) is regular
    _submit_current(client, campaign, alice)
    assert not Assignment.objects.get(reviewer=alice, state=Assignment.State.LEASED).comparison.is_gold
    after_gold = _visible_numbers(client, campaign)
    _submit_current(client, campaign, alice)
    after_regular = _visible_numbers(client, campaign)
    assert before_gold == {
        "page progress": "0 / 8 judgments (0%)",
        "page today": "Today: 0",
        "home today": "You have made 0 judgments today.",
        "home campaign": "4 pairs · 0 / 8 judgments (0%) · 0 by you",
    }
    assert after_gold == {
        "page progress": "1 / 8 judgments (12%)",
        "page today": "Today: 1",
        "home today": "You have made 1 judgment today.",
        "home campaign": "4 pairs · 1 / 8 judgments (12%) · 1 by you",
    }
    assert after_regular == {
        "page progress": "2 / 8 judgments (25%)",
        "page today": "Today: 2",
        "home today": "You have made 2 judgments today.",
        "home campaign": "4 pairs · 2 / 8 judgments (25%) · 2 by you",
    }


def test_opening_the_review_page_writes_nothing(client_for, alice):
    campaign, _ = campaign_with_pairs(3)
    client = client_for(alice)
    taken = list(Comparison.objects.values_list("taken", flat=True))
    for headers in ({}, HTMX):
        assert client.get(reverse("review_campaign", args=[campaign.slug]), **headers).status_code == 200
        assert client.get(reverse("home"), **headers).status_code == 200
    assert Assignment.objects.count() == 0
    assert list(Comparison.objects.values_list("taken", flat=True)) == taken
