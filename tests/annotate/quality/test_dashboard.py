"""The quality dashboard on a hand-made campaign: every number worked out by hand, then the pages around them.

The campaign (overlap 3, criterion "overall"; rating differences A − B in brackets):

    pair  locale  tag       A (len, model)      B (len, model)      judgments (reviewer: outcome-strength [Δ])
    c1    en-US   factual   10, atlas v1        20, borealis v1     r1: a-strong [+1]  r2: a-clear [+1]  r3: a-clear [+2]
    c2    en-US   creative  30, borealis v1      5, atlas v1        r1: a-slight [0]   r2: a-slight [0]  r3: b-slight [-1]
    c3    ja-JP   factual    7, atlas v1         7, atlas v2        r1: b-clear [-2]   r2: tie [—]

c1 is judged on day 1, c2 on days 1 and 2 (r3), c3 on day 3. r1 saw A on the left except on c3.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from unittest import mock

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from kombu.exceptions import OperationalError

from annotate.models import Assignment, Judgment, ReviewerFlag
from annotate.quality import refresh
from annotate.quality.drilldown import recent_judgments_with_majority
from annotate.quality.load import _generic_arrays, campaign_arrays
from annotate.quality.refresh import campaign_report, campaign_report_state
from annotate.quality.store import compute_campaign_report, judgments_stamp
from annotate.tasks import refresh_quality_report
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    CandidateFactory,
    ComparisonFactory,
    JudgmentFactory,
    LocaleFactory,
    PromptFactory,
    RubricFactory,
    UserFactory,
)

DAY1, DAY2, DAY3 = (datetime(2026, 3, day, 12, tzinfo=UTC) for day in (2, 3, 4))


def _pair(campaign, locale, tag, a, b):
    prompt = PromptFactory(campaign=campaign, locale=locale, tags={"scenario": tag})
    candidate_a = CandidateFactory(prompt=prompt, text="x" * a[0], model_name=a[1], model_version=a[2])
    candidate_b = CandidateFactory(prompt=prompt, text="y" * b[0], model_name=b[1], model_version=b[2])
    return ComparisonFactory(prompt=prompt, candidate_a=candidate_a, candidate_b=candidate_b)


def _judge(comparison, reviewer, outcome, strength, delta, when, *, a_on_left=True, seconds=30, gold=None):
    assignment = AssignmentFactory(
        reviewer=reviewer, comparison=comparison, a_on_left=a_on_left, state=Assignment.State.SUBMITTED
    )
    ratings = {} if delta is None else {"a": {"overall": 3 + delta}, "b": {"overall": 3}}
    return JudgmentFactory(
        assignment=assignment,
        comparison=comparison,
        reviewer=reviewer,
        outcome=outcome,
        strength=strength,
        ratings=ratings,
        created_at=when,
        time_taken_ms=seconds * 1000,
        gold_correct=gold,
    )


@pytest.fixture
def campaign(db):
    cache.clear()
    en, ja = LocaleFactory(code="en-US"), LocaleFactory(code="ja-JP")
    rubric = RubricFactory(criteria=[{"key": "overall", "label": "Overall", "description": "", "scale": 5}])
    campaign = CampaignFactory(slug="hand-made", overlap=3, rubric=rubric, locales=[en, ja])
    c1 = _pair(campaign, en, "factual", (10, "atlas", "v1"), (20, "borealis", "v1"))
    c2 = _pair(campaign, en, "creative", (30, "borealis", "v1"), (5, "atlas", "v1"))
    c3 = _pair(campaign, ja, "factual", (7, "atlas", "v1"), (7, "atlas", "v2"))
    r1, r2, r3 = (UserFactory(username=name, role="reviewer") for name in ("rhea", "remy", "rosa"))
    _judge(c1, r1, "a", "strong", +1, DAY1, seconds=10, gold=True)
    _judge(c1, r2, "a", "clear", +1, DAY1, seconds=20)
    _judge(c1, r3, "a", "clear", +2, DAY1, seconds=30)
    _judge(c2, r1, "a", "slight", 0, DAY1, seconds=20, gold=False)
    _judge(c2, r2, "a", "slight", 0, DAY1, seconds=30)
    _judge(c2, r3, "b", "slight", -1, DAY2, seconds=50)
    _judge(c3, r1, "b", "clear", -2, DAY3, a_on_left=False, seconds=60)
    _judge(c3, r2, "tie", "", None, DAY3, seconds=70)
    campaign.reviewers = (r1, r2, r3)
    return campaign


def _headline(report):
    return {
        row["metric"].split(" (")[0] + (" ordinal" if "ordinal" in row["metric"] else ""): row
        for row in report["headline"]
    }


def test_outcome_agreement_matches_hand_computation(campaign):
    report = compute_campaign_report(campaign=campaign)
    headline = _headline(report)
    # Nominal: 8 pairable values (a 5, b 2, tie 1). Disagreement within pairs: c1 0, c2 4 ordered pairs / 2,
    # c3 2 / 1 → 4; expected 8² − (25 + 4 + 1) = 34; alpha = 1 − 7 × 4 / 34 = 3/17.
    assert headline["Outcome alpha"]["value"] == pytest.approx(3 / 17)
    # Ordinal mid-ranks 0.5, 2, 2, 4, 4, 5.5, 6.5, 7.5 (scale points 0, 1, 1, 2, 2, 3, 4, 5): within-pair
    # disagreement 4.5 + 12.5 + 8 = 25; expected 2 × 8 × 41 = 656; alpha = 1 − 7 × 25 / 656 = 481/656.
    assert headline["Outcome alpha ordinal"]["value"] == pytest.approx(481 / 656)
    # Fleiss on c1, c2 (3 judgments each): P̄ = (1 + 1/3) / 2, Pe = (5/6)² + (1/6)² = 13/18 → −1/5.
    assert headline["Fleiss' kappa"]["value"] == pytest.approx(-0.2)
    assert headline["Fleiss' kappa"]["units"] == 2
    # Percent agreement: c1 1, c2 1/3, c3 0 → 4/9.
    assert headline["Percent agreement"]["value"] == pytest.approx(4 / 9)
    for row in report["headline"]:
        assert row["low"] <= row["value"] <= row["high"] or row["metric"].startswith("Fleiss")


def test_criterion_alpha_uses_rating_differences(campaign):
    (row,) = compute_campaign_report(campaign=campaign)["criteria"]
    # Δ on c1: 1, 1, 2; on c2: 0, 0, −1 (c3 has one rating: not pairable). Within: 2 + 2; expected 2 × 6 × 5.5.
    assert row["criterion"] == "overall"
    assert row["alpha"] == pytest.approx(1 - 5 * 4 / 66)
    assert row["units"] == 2


def test_reviewer_rows_match_hand_computation(campaign):
    report = compute_campaign_report(campaign=campaign)
    r1, r2, r3 = campaign.reviewers
    rows = {row["reviewer"]: row for row in report["reviewer_rows"]}
    assert report["names"][r1.pk] == "rhea"
    assert [rows[r.pk]["judgments"] for r in (r1, r2, r3)] == [3, 3, 2]
    assert rows[r1.pk]["median_seconds"] == 20.0
    assert rows[r3.pk]["median_seconds"] == 40.0
    # r1: c1 others (a, a) → agrees; c2 others (a, b) split; c3 other (tie) → disagrees.
    assert (rows[r1.pk]["majority_agreement"], rows[r1.pk]["majority_judgments"]) == (0.5, 2)
    # r3: c1 others (a, a) agrees; c2 others (a, a) vs b disagrees.
    assert rows[r3.pk]["majority_agreement"] == 0.5
    assert (rows[r1.pk]["gold_accuracy"], rows[r1.pk]["gold_judgments"]) == (0.5, 2)
    assert rows[r2.pk]["gold_judgments"] == 0
    # r1's decided picks: a with A left (left), a with A left (left), b with A right (left) → 3 of 3, p = 2/8.
    assert rows[r1.pk]["left_share"] == 1.0
    assert rows[r1.pk]["left_p_value"] == pytest.approx(0.25)
    assert rows[r2.pk]["tie_share"] == pytest.approx(1 / 3)
    assert not any(rows[r.pk][flag] for r in (r1, r2, r3) for flag in ("too_fast", "low_agreement", "position_bias"))


def test_biases_match_hand_computation(campaign):
    report = compute_campaign_report(campaign=campaign)
    # Decided judgments between different lengths: c1 (B longer) a, a, a; c2 (A longer) a, a, b → longer wins 2/6.
    assert report["length_bias"]["longer_wins"] == 2
    assert report["length_bias"]["decided"] == 6
    models = {row["model"]: row for row in report["models"]}
    # atlas v1: wins c1 ×3 + c2 (r3); losses c2 ×2 + c3 (r1); tie c3 (r2).
    assert models["atlas v1"] | {} == {
        "model": "atlas v1",
        "judgments": 8,
        "wins": 4,
        "losses": 3,
        "ties": 1,
        "both_bad": 0,
        "win_rate": pytest.approx(4 / 7),
    }
    assert (models["borealis v1"]["wins"], models["borealis v1"]["losses"]) == (2, 4)
    assert (models["atlas v2"]["wins"], models["atlas v2"]["ties"], models["atlas v2"]["win_rate"]) == (1, 1, 1.0)


def test_slices_match_hand_computation(campaign):
    report = compute_campaign_report(campaign=campaign)
    locales = {row["slice"]: row for row in report["locales"]}
    # en-US: c1 + c2: values a ×5, b ×1, within 2, expected 36 − 26 = 10 → alpha 1 − 5 × 2 / 10 = 0.
    assert locales["en-US"]["alpha"] == pytest.approx(0.0)
    assert locales["en-US"]["percent_agreement"] == pytest.approx(2 / 3)
    assert (locales["ja-JP"]["judgments"], locales["ja-JP"]["percent_agreement"]) == (2, 0.0)
    tags = {row["slice"]: row for row in report["tags"]}
    assert set(tags) == {"scenario=factual", "scenario=creative"}
    assert tags["scenario=factual"]["comparisons"] == 2
    assert tags["scenario=creative"]["a_share"] == pytest.approx(2 / 3)
    # Pairs go to the day they were last judged: c1 on day 1, c2 on day 2, c3 on day 3.
    assert report["time_unit"] == "day"
    assert [(row["slice"], row["judgments"]) for row in report["over_time"]] == [
        ("2026-03-02", 3),
        ("2026-03-03", 3),
        ("2026-03-04", 2),
    ]


def test_arrays_take_a_few_queries_whatever_the_size(campaign):
    """One query (SQLite) or two binary COPYs and a few small statements (PostgreSQL), never one per row."""
    campaign.rubric  # noqa: B018 (loaded with the campaign by the views)
    with CaptureQueriesContext(connection) as small:
        arrays = campaign_arrays(campaign=campaign)
    assert len(arrays) == 8
    assert set(arrays.locale.labels) == {"en-US", "ja-JP"}
    assert sorted(arrays.ratings["overall"][~np.isnan(arrays.ratings["overall"])]) == [-2, -1, 0, 0, 1, 1, 2]
    assert sorted(arrays.length_a.tolist()) == [7, 7, 10, 10, 10, 30, 30, 30]
    c1 = Judgment.objects.filter(comparison__campaign=campaign).first().comparison
    for name in ("rick", "rudy", "ruth"):
        _judge(c1, UserFactory(username=name, role="reviewer"), "a", "clear", 0, DAY3)
    with CaptureQueriesContext(connection) as large:
        assert len(campaign_arrays(campaign=campaign)) == 11
    # PostgreSQL: savepoint, work_mem, temporary table dropped, gathered, labels read, dropped, released (COPY is not
    # logged).
    assert len(large) == len(small) <= 7


def test_report_is_cached_until_a_judgment_arrives(campaign, django_assert_num_queries):
    first = campaign_report_state(campaign=campaign)
    assert not first.updating
    with django_assert_num_queries(1):  # the judgments stamp only
        again = campaign_report_state(campaign=campaign)
    assert not again.updating and again.report["headline"][0]["value"] == first.report["headline"][0]["value"]
    c1 = Judgment.objects.filter(comparison__campaign=campaign).first().comparison
    _judge(c1, UserFactory(username="rick", role="reviewer"), "a", "clear", 0, DAY3)
    assert campaign_report_state(campaign=campaign).updating


def test_judgments_stamp_moves_with_every_change_in_its_campaign_only(campaign):
    stamp = judgments_stamp(campaign_id=campaign.pk)
    other = ComparisonFactory()
    _judge(other, UserFactory(username="oona", role="reviewer"), "a", "clear", 0, DAY3)
    assert judgments_stamp(campaign_id=campaign.pk) == stamp
    judgments = Judgment.objects.filter(comparison__campaign=campaign)
    judgments.filter(pk=judgments.first().pk).delete()
    assert judgments_stamp(campaign_id=campaign.pk) != stamp
    stamp = judgments_stamp(campaign_id=campaign.pk)
    c1 = judgments.first().comparison
    _judge(c1, UserFactory(username="rick", role="reviewer"), "a", "clear", 0, DAY3)
    assert judgments_stamp(campaign_id=campaign.pk) != stamp
    if connection.vendor == "postgresql":  # elsewhere the stamp is (latest id, count): edits go unseen
        stamp = judgments_stamp(campaign_id=campaign.pk)
        judgments.filter(outcome="tie").update(outcome="a")
        assert judgments_stamp(campaign_id=campaign.pk) != stamp


def test_stale_report_is_served_at_once_and_one_refresh_enqueued(campaign, django_capture_on_commit_callbacks):
    first = campaign_report(campaign=campaign)
    c1 = Judgment.objects.filter(comparison__campaign=campaign).first().comparison
    _judge(c1, UserFactory(username="rick", role="reviewer"), "a", "clear", 0, DAY3)
    with mock.patch.object(refresh_quality_report, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            state = campaign_report_state(campaign=campaign)
            again = campaign_report_state(campaign=campaign)  # a second view while the refresh is queued
    assert state.updating and again.updating
    assert state.report["judgments"] == first["judgments"]  # the previous report, not recomputed
    delay.assert_called_once_with(campaign.pk, "human")


def test_refresh_task_computes_and_stores_the_fresh_report(campaign, django_capture_on_commit_callbacks):
    first = campaign_report(campaign=campaign)
    c1 = Judgment.objects.filter(comparison__campaign=campaign).first().comparison
    judgment = _judge(c1, UserFactory(username="rick", role="reviewer"), "a", "clear", 0, DAY3)
    with mock.patch.object(refresh_quality_report, "delay"):
        assert campaign_report_state(campaign=campaign).updating
    refresh_quality_report(campaign.pk)  # what the worker runs
    state = campaign_report_state(campaign=campaign)
    assert not state.updating
    assert state.report["judgments"] == first["judgments"] + 1
    judgment.delete()  # a removed judgment makes the report stale too
    with mock.patch.object(refresh_quality_report, "delay") as delay, django_capture_on_commit_callbacks(execute=True):
        assert campaign_report_state(campaign=campaign).updating
    delay.assert_called_once_with(campaign.pk, "human")  # the finished task released its lock


def test_unreachable_broker_keeps_the_stale_report_and_tries_again(campaign, django_capture_on_commit_callbacks):
    campaign_report(campaign=campaign)
    c1 = Judgment.objects.filter(comparison__campaign=campaign).first().comparison
    _judge(c1, UserFactory(username="rick", role="reviewer"), "a", "clear", 0, DAY3)
    with mock.patch.object(refresh_quality_report, "delay", side_effect=OperationalError("down")) as delay:
        for _ in range(2):  # two page views, each enqueueing after its (empty) transaction
            with django_capture_on_commit_callbacks(execute=True):
                assert campaign_report_state(campaign=campaign).updating
    assert delay.call_count == 2  # the failed attempt released its lock


def test_refresh_of_a_fresh_report_computes_nothing(campaign, django_assert_num_queries):
    campaign_report(campaign=campaign)
    with django_assert_num_queries(2):  # the campaign, the stamp
        assert refresh_quality_report(campaign.pk) is None


def test_arrays_are_the_same_on_every_database_path(campaign):
    """PostgreSQL reads arrays by binary COPY, other databases through the ORM query: both must agree."""
    campaign.rubric  # noqa: B018
    first, second = Judgment.objects.filter(comparison__campaign=campaign)[:2]
    Judgment.objects.filter(pk=first.pk).update(order_consistent=True)
    Judgment.objects.filter(pk=second.pk).update(order_consistent=False)
    fast, generic = campaign_arrays(campaign=campaign), _generic_arrays(campaign)
    order_fast = np.lexsort((fast.reviewer, fast.comparison))
    order_generic = np.lexsort((generic.reviewer, generic.comparison))
    for name in ("reviewer", "comparison", "outcome", "strength", "a_on_left", "time_ms", "created_at"):
        assert getattr(fast, name)[order_fast].tolist() == getattr(generic, name)[order_generic].tolist(), name
    for name in ("length_a", "length_b", "model_a", "model_b"):
        assert getattr(fast, name)[order_fast].tolist() == getattr(generic, name)[order_generic].tolist(), name
    assert fast.model_labels == generic.model_labels
    np.testing.assert_array_equal(fast.gold_correct[order_fast], generic.gold_correct[order_generic])
    np.testing.assert_array_equal(fast.order_consistent[order_fast], generic.order_consistent[order_generic])
    assert sorted(generic.order_consistent[~np.isnan(generic.order_consistent)].tolist()) == [0.0, 1.0]
    np.testing.assert_array_equal(fast.ratings["overall"][order_fast], generic.ratings["overall"][order_generic])
    assert fast.locale.labels == generic.locale.labels
    assert fast.locale.codes[order_fast].tolist() == generic.locale.codes[order_generic].tolist()
    assert fast.tags.keys() == generic.tags.keys()
    for key, coded in fast.tags.items():
        assert coded.labels == generic.tags[key].labels
        assert coded.codes[order_fast].tolist() == generic.tags[key].codes[order_generic].tolist()


def test_recent_judgments_stand_next_to_the_others_majority(campaign):
    r1, r2, r3 = campaign.reviewers
    recent = recent_judgments_with_majority(campaign=campaign, reviewer_id=r3.pk)
    assert [(item.judgment.outcome, item.majority, item.agrees) for item in recent] == [
        ("b", "a", False),  # c2, day 2: the others said a, a
        ("a", "a", True),  # c1
    ]
    (split, *_) = recent_judgments_with_majority(campaign=campaign, reviewer_id=r1.pk)
    assert (split.majority, split.others, split.agrees) == ("tie", 1, False)


# --- pages ---------------------------------------------------------------------------------------------------


def test_lead_sees_headline_numbers_and_reviewers(client_for, lena, campaign):
    response = client_for(lena).get(reverse("quality_campaign", args=[campaign.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "0.176" in body  # nominal alpha 3/17
    assert "0.733" in body  # ordinal alpha 481/656
    assert "44.4%" in body  # percent agreement 4/9
    assert "rhea" in body and "rosa" in body
    assert 'id="agreement-chart-data"' in body and "kappa-heatmap" not in body  # no pair shares 20 items


def test_dashboard_page_query_count_is_fixed_once_cached(client_for, lena, campaign, django_assert_num_queries):
    client = client_for(lena)
    url = reverse("quality_campaign", args=[campaign.slug])
    client.get(url)
    # session, user, groups, campaign, cache key, flags
    with django_assert_num_queries(6):
        assert client.get(url).status_code == 200


def test_stale_page_answers_with_the_previous_report_and_polls_until_fresh(client_for, lena, campaign):
    client = client_for(lena)
    url = reverse("quality_campaign", args=[campaign.slug])
    assert "Updating…" not in client.get(url).content.decode()
    c1 = Judgment.objects.filter(comparison__campaign=campaign).first().comparison
    _judge(c1, UserFactory(username="rick", role="reviewer"), "a", "clear", 0, DAY3)
    poll = {"HX-Request": "true", "HX-Target": "quality-updating"}
    with mock.patch.object(refresh_quality_report, "delay"):
        body = client.get(url).content.decode()
        assert "Updating…" in body and 'hx-trigger="every 2s"' in body
        assert "8 judgments" in body  # the previous report
        fragment = client.get(url, headers=poll)
    assert fragment.content.decode().startswith('<p class="card muted" id="quality-updating"')
    assert "HX-Refresh" not in fragment
    refresh_quality_report(campaign.pk)
    done = client.get(url, headers=poll)
    assert done["HX-Refresh"] == "true"  # htmx reloads the page, which now shows the fresh report
    body = client.get(url).content.decode()
    assert "9 judgments" in body and "Updating…" not in body


def test_big_campaign_first_report_is_computed_in_the_background(client_for, lena, campaign):
    client = client_for(lena)
    url = reverse("quality_campaign", args=[campaign.slug])
    poll = {"HX-Request": "true", "HX-Target": "quality-updating"}
    with mock.patch.object(refresh, "SYNC_MAX_JUDGMENTS", 7), mock.patch.object(refresh_quality_report, "delay"):
        body = client.get(url).content.decode()
        assert "Computing this campaign" in body and 'id="headline"' not in body
        assert "Computing this campaign" in client.get(url, headers=poll).content.decode()
        refresh_quality_report(campaign.pk)
        assert client.get(url, headers=poll)["HX-Refresh"] == "true"
        assert "8 judgments" in client.get(url).content.decode()


def test_reviewer_table_sorts_and_htmx_gets_only_the_fragment(client_for, lena, campaign):
    client = client_for(lena)
    url = reverse("quality_campaign", args=[campaign.slug])
    response = client.get(
        url, {"sort": "median_seconds", "dir": "asc"}, headers={"HX-Request": "true", "HX-Target": "reviewer-table"}
    )
    body = response.content.decode()
    assert "<html" not in body and 'id="reviewer-table"' in body
    assert body.index("rhea") < body.index("remy") < body.index("rosa")  # 20 s, 30 s, 40 s
    body = client.get(url, {"sort": "median_seconds", "dir": "desc"}).content.decode()
    assert "<html" in body
    assert body.index(">rosa<") < body.index(">remy<") < body.index(">rhea<")


def test_flagged_and_outlier_reviewers_are_marked(client_for, lena, campaign):
    r1 = campaign.reviewers[0]
    ReviewerFlag.objects.create(reviewer=r1, campaign=None, flagged_by=lena, reason="gold misses")
    body = client_for(lena).get(reverse("quality_campaign", args=[campaign.slug])).content.decode()
    row = body[body.index(f'data-reviewer="{r1.pk}"') :]
    assert "flagged" in row[: row.index("</tr>")]


def test_reviewer_drill_down_shows_recent_judgments(client_for, lena, campaign):
    r3 = campaign.reviewers[2]
    client = client_for(lena)
    url = reverse("quality_reviewer", args=[campaign.slug, r3.pk])
    body = client.get(url).content.decode()
    assert "rosa" in body and "recent-judgments" in body and "agree-no" in body
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "recent-judgments" in fragment


def test_drill_down_for_a_reviewer_outside_the_campaign_is_404(client_for, lena, alice, campaign):
    assert client_for(lena).get(reverse("quality_reviewer", args=[campaign.slug, alice.pk])).status_code == 404


@pytest.mark.parametrize(
    ("table", "first_row"),
    [
        ("headline", ["Outcome alpha (nominal)", "0.176471"]),
        ("criteria", ["overall", "0.69697"]),
        ("length-bias", ["2", "6", "0.333333"]),
        ("over-time", ["2026-03-02", "3", "1"]),
    ],
)
def test_csv_downloads_carry_the_table(client_for, lena, campaign, table, first_row):
    response = client_for(lena).get(reverse("quality_csv", args=[campaign.slug, table]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][: len(first_row)] == first_row


def test_every_table_has_a_csv(client_for, lena, campaign):
    client = client_for(lena)
    for table in ("reviewers", "kappas", "models", "locales", "tags"):
        response = client.get(reverse("quality_csv", args=[campaign.slug, table]))
        assert response.status_code == 200, table
    assert client.get(reverse("quality_csv", args=[campaign.slug, "nope"])).status_code == 404


def test_campaign_without_judgments_shows_an_empty_state(client_for, lena, db):
    campaign = CampaignFactory(slug="quiet")
    body = client_for(lena).get(reverse("quality_campaign", args=[campaign.slug])).content.decode()
    assert "No judgments yet" in body
    assert "chart.umd.min.js" not in body
    assert client_for(lena).get(reverse("quality_csv", args=[campaign.slug, "reviewers"])).status_code == 200


def test_index_lists_campaigns_with_judgment_counts(client_for, lena, campaign):
    body = client_for(lena).get(reverse("quality_index")).content.decode()
    assert reverse("quality_campaign", args=[campaign.slug]) in body
    assert "<td>8</td>" in body


@pytest.mark.parametrize("name", ["quality_index", "quality_campaign", "quality_reviewer", "quality_csv"])
def test_reviewers_are_refused_and_anonymous_redirected(client, client_for, alice, campaign, name):
    kwargs = {
        "quality_index": {},
        "quality_campaign": {"slug": campaign.slug},
        "quality_reviewer": {"slug": campaign.slug, "reviewer_id": campaign.reviewers[0].pk},
        "quality_csv": {"slug": campaign.slug, "table": "reviewers"},
    }[name]
    url = reverse(name, kwargs=kwargs)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("login"))
    assert client_for(alice).get(url).status_code == 403


def test_nav_shows_quality_to_leads_only(client_for, lena, alice, db):
    assert reverse("quality_index") in client_for(lena).get("/").content.decode()
    assert reverse("quality_index") not in client_for(alice).get("/").content.decode()


def test_csv_cells_that_start_a_formula_are_neutralised_and_numbers_kept(client_for, lena, campaign):
    reviewer = campaign.reviewers[0]
    reviewer.username = "=HYPERLINK(rhea)"
    reviewer.save()
    body = client_for(lena).get(reverse("quality_csv", args=[campaign.slug, "reviewers"])).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=HYPERLINK(rhea)" in cells
    assert [cell for cell in cells if cell.startswith("'")] == ["'=HYPERLINK(rhea)"]
    headline = client_for(lena).get(reverse("quality_csv", args=[campaign.slug, "headline"])).content.decode()
    assert "Fleiss' kappa (3 reviewers),-0.2,-0.5,-0.2,2" in headline  # negative numbers stay numbers
