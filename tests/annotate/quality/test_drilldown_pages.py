"""The quality dashboard's drill-downs and lead actions: chat prompts, the pair page, flags, the too-fast floor, AI
judges' position consistency."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from annotate.models import JudgmentSource, ReviewerFlag
from annotate.services.reviewer_flags import reviewer_flag, reviewer_unflag
from tests.factories import (
    CampaignFactory,
    CandidateFactory,
    ComparisonFactory,
    JudgmentFactory,
    PromptFactory,
    ReviewerFlagFactory,
    UserFactory,
)

CHAT = [
    {"role": "system", "content": "Answer in French."},
    {"role": "user", "content": "What is the capital of Peru?"},
]


@pytest.fixture
def pair(db):
    cache.clear()
    campaign = CampaignFactory(slug="chatty", overlap=2)
    prompt = PromptFactory(campaign=campaign, text="", messages=CHAT)
    comparison = ComparisonFactory(
        prompt=prompt,
        candidate_a=CandidateFactory(prompt=prompt, text="Lima.", model_name="atlas", model_version="v1"),
        candidate_b=CandidateFactory(prompt=prompt, text="Cusco.", model_name="borealis", model_version="v2"),
    )
    rhea, remy = UserFactory(username="rhea", role="reviewer"), UserFactory(username="remy", role="reviewer")
    JudgmentFactory(comparison=comparison, reviewer=rhea, outcome="a", strength="strong", critique="Lima is right.")
    JudgmentFactory(comparison=comparison, reviewer=remy, outcome="b", strength="slight", time_taken_ms=9000)
    comparison.reviewers = (rhea, remy)
    return comparison


def test_the_reviewer_drill_down_shows_chat_prompts_as_turns_and_links_the_pair(client_for, lena, pair):
    rhea = pair.reviewers[0]
    body = client_for(lena).get(reverse("quality_reviewer", args=[pair.campaign.slug, rhea.pk])).content.decode()
    assert "system: Answer in French. · user: What is the capital of Peru?" in body
    assert reverse("quality_pair", args=[pair.campaign.slug, pair.pk]) in body


def test_the_pair_page_shows_the_prompt_both_answers_with_models_and_every_judgment(client_for, lena, pair):
    response = client_for(lena).get(reverse("quality_pair", args=[pair.campaign.slug, pair.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "What is the capital of Peru?" in body and "Answer in French." in body
    assert "Lima." in body and "atlas v1" in body and "Cusco." in body and "borealis v2" in body
    table = body[body.index('id="pair-judgments"') :]
    assert table.count("data-judgment=") == 2
    assert "rhea" in table and "remy" in table and "Lima is right." in table
    assert "A better" in table and "B better" in table and "Strong" in table and "Slight" in table and "9 s" in table


def test_the_pair_page_names_ai_judges_and_flags_a_verdict_that_flipped_with_the_order(client_for, lena, pair):
    judge = UserFactory(username="judge:tiny", role=None)
    JudgmentFactory(comparison=pair, reviewer=judge, outcome="tie", strength="", source="ai", order_consistent=False)
    body = client_for(lena).get(reverse("quality_pair", args=[pair.campaign.slug, pair.pk])).content.decode()
    assert "AI judge" in body and "flipped with the order" in body


def test_the_pair_page_is_for_leads_only_and_for_pairs_of_the_campaign(client_for, lena, alice, pair):
    url = reverse("quality_pair", args=[pair.campaign.slug, pair.pk])
    assert client_for(alice).get(url).status_code == 403
    other = CampaignFactory(slug="other")
    assert client_for(lena).get(reverse("quality_pair", args=[other.slug, pair.pk])).status_code == 404


def test_a_lead_flags_and_unflags_a_reviewer_from_the_dashboard_with_htmx(client_for, lena, pair):
    rhea = pair.reviewers[0]
    client = client_for(lena)
    slug = pair.campaign.slug
    htmx = {"HX-Request": "true", "HX-Target": f"flag-{rhea.pk}"}
    fragment = client.post(reverse("quality_reviewer_flag", args=[slug, rhea.pk]), {"reason": "rushes"}, headers=htmx)
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body and "badge-bad" in body and "unflag" in body
    flag = ReviewerFlag.objects.get(reviewer=rhea)
    assert (flag.campaign, flag.flagged_by, flag.reason, flag.active) == (pair.campaign, lena, "rushes", True)
    page = client.get(reverse("quality_campaign", args=[slug])).content.decode()
    row = page[page.index(f'data-reviewer="{rhea.pk}"') :]
    assert "badge-bad" in row[: row.index("</tr>")]
    api = client.get(reverse("api_campaign_quality", args=[slug])).json()
    assert {row["name"]: row["flagged"] for row in api["reviewer_rows"]} == {"rhea": True, "remy": False}

    fragment = client.post(reverse("quality_reviewer_unflag", args=[slug, rhea.pk]), headers=htmx)
    assert "badge-bad" not in fragment.content.decode()
    flag.refresh_from_db()
    assert (flag.active, flag.cleared_by) == (False, lena) and flag.cleared_at is not None


def test_flagging_without_htmx_redirects_back_and_refuses_reviewers_and_get(client_for, lena, alice, pair):
    rhea = pair.reviewers[0]
    url = reverse("quality_reviewer_flag", args=[pair.campaign.slug, rhea.pk])
    back = reverse("quality_campaign", args=[pair.campaign.slug])
    response = client_for(lena).post(url, {"next": back})
    assert response.status_code == 302 and response.url == back
    assert client_for(lena).post(url, {"next": "https://evil.example/"}).url.startswith("/quality/")
    assert client_for(alice).post(url).status_code == 403
    assert client_for(lena).get(url).status_code == 405
    assert ReviewerFlag.objects.filter(reviewer=rhea, active=True).count() == 1  # flagging twice keeps one flag


def test_unflag_lifts_a_flag_set_for_every_campaign_too(db, lena, pair):
    rhea = pair.reviewers[0]
    ReviewerFlagFactory(reviewer=rhea, campaign=None)
    reviewer_flag(reviewer=rhea, campaign=pair.campaign, flagged_by=lena)
    ReviewerFlagFactory(reviewer=rhea, campaign=CampaignFactory(slug="elsewhere"))
    assert reviewer_unflag(reviewer=rhea, campaign=pair.campaign, cleared_by=lena) == 2
    assert list(ReviewerFlag.objects.filter(active=True).values_list("campaign__slug", flat=True)) == ["elsewhere"]


def test_flag_endpoints_post_needs_csrf(lena, pair):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(lena)
    response = client.post(reverse("quality_reviewer_flag", args=[pair.campaign.slug, pair.reviewers[0].pk]))
    assert response.status_code == 403 and not ReviewerFlag.objects.exists()


def _timed_campaign(milliseconds: int):
    campaign = CampaignFactory(slug="timed", overlap=1)
    reviewer = UserFactory(username="quick", role="reviewer")
    for _ in range(10):
        JudgmentFactory(
            comparison=ComparisonFactory(prompt=PromptFactory(campaign=campaign)),
            reviewer=reviewer,
            time_taken_ms=milliseconds,
        )
    return campaign


def test_too_fast_has_an_absolute_floor_from_settings(client_for, lena, db, settings):
    cache.clear()
    campaign = _timed_campaign(2000)  # alone: the relative rule can never fire
    url = reverse("api_campaign_quality", args=[campaign.slug])
    (row,) = client_for(lena).get(url).json()["reviewer_rows"]
    assert row["too_fast"] is True
    settings.VERDICT_TOO_FAST_MS = 1000
    (row,) = client_for(lena).get(url).json()["reviewer_rows"]
    assert row["too_fast"] is False
    page = client_for(lena).get(reverse("quality_campaign", args=[campaign.slug])).content.decode()
    assert "or under 1.0 s" in page


def test_ai_judges_position_consistency_on_the_dashboard_and_in_the_api(client_for, lena, db):
    cache.clear()
    campaign = CampaignFactory(slug="judged", overlap=2)
    humans = [UserFactory(role="reviewer") for _ in range(2)]
    steady, unchecked = UserFactory(username="judge:steady", role=None), UserFactory(username="judge:new", role=None)
    for consistent in (True, True, True, False):
        comparison = ComparisonFactory(prompt=PromptFactory(campaign=campaign))
        for human in humans:
            JudgmentFactory(comparison=comparison, reviewer=human, outcome="a")
        JudgmentFactory(
            comparison=comparison, reviewer=steady, outcome="a", source=JudgmentSource.AI, order_consistent=consistent
        )
        JudgmentFactory(comparison=comparison, reviewer=unchecked, outcome="b", source=JudgmentSource.AI)
    client = client_for(lena)
    judges = client.get(reverse("api_campaign_quality", args=[campaign.slug])).json()["judges"]
    by_name = {row["name"]: row for row in judges}
    assert by_name["judge:steady"]["position_consistency"] == 0.75
    assert (by_name["judge:steady"]["order_checked"], by_name["judge:steady"]["order_flips"]) == (4, 1)
    assert by_name["judge:new"]["position_consistency"] is None and by_name["judge:new"]["order_checked"] == 0
    page = client.get(reverse("quality_campaign", args=[campaign.slug])).content.decode()
    steady_row = page[page.index(f'data-judge="{steady.pk}"') :]
    assert (
        "75.0%" in steady_row[: steady_row.index("</tr>")] and "1 flip of 4" in steady_row[: steady_row.index("</tr>")]
    )
    new_row = page[page.index(f'data-judge="{unchecked.pk}"') :]
    assert new_row[: new_row.index("</tr>")].endswith("<td>—</td>")
