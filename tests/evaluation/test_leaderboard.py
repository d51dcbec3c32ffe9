"""The leaderboard from real rows: hand counts, ties, identical answers, filters, baselines, escalations, the API."""

from __future__ import annotations

import pytest

from evaluation.leaderboard import LeaderboardError, leaderboard_get
from tests.evaluation.judged import judge, pair, prompt_of
from tests.factories import (
    CampaignFactory,
    CandidateFactory,
    EscalationResolutionFactory,
    JudgmentFactory,
    ReviewerFlagFactory,
)


def row_of(board, name: str):
    return next(row for row in board.models if row.model == name)


@pytest.fixture
def campaign(db):
    """borealis against the baseline atlas on four prompts, in both positions:
    borealis wins 3, loses 1, ties 2 and both are bad twice."""
    campaign = CampaignFactory(slug="eval")
    judge(pair(campaign, "borealis@v1", "atlas@v1"), "a", "a", "tie")
    judge(pair(campaign, "atlas@v1", "borealis@v1"), "b", "a", "both_bad")
    judge(pair(campaign, "borealis@v1", "atlas@v1"), "tie", "both_bad")
    return campaign


def test_win_rate_against_the_baseline_is_the_hand_count_with_ties_half_and_both_bad_apart(campaign):
    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    borealis = row_of(board, "borealis")
    assert (borealis.wins, borealis.losses, borealis.ties, borealis.both_bad) == (3, 1, 2, 2)
    assert borealis.win_rate == pytest.approx((3 + 2 / 2) / 6)
    assert borealis.win_rate_ci[0] <= borealis.win_rate <= borealis.win_rate_ci[1]
    assert borealis.judgments == 6  # rated ones: both-bad stay out of the rate and of the fit
    assert board.both_bad == 2 and board.judgments == 8


def test_the_baseline_sits_at_1000_without_a_win_rate_and_the_winner_above(campaign):
    board = leaderboard_get(campaigns=[campaign], baseline="atlas@v1")

    atlas = row_of(board, "atlas")
    assert board.baseline == "atlas@v1"
    assert atlas.rating == pytest.approx(1000) and atlas.rating_ci == pytest.approx((1000, 1000))
    assert atlas.win_rate is None and atlas.win_rate_ci is None
    assert row_of(board, "borealis").rating > 1000
    assert [row.model for row in board.models] == ["borealis", "atlas"]


def test_without_a_baseline_ratings_centre_on_their_mean_and_no_win_rate_is_given(campaign):
    board = leaderboard_get(campaigns=[campaign])

    assert board.baseline is None
    assert sum(row.rating for row in board.models) / 2 == pytest.approx(1000)
    assert all(row.win_rate is None for row in board.models)


def test_a_model_that_never_met_the_baseline_has_no_win_rate(campaign):
    judge(pair(campaign, "cirrus@v1", "borealis@v1"), "a", "b")

    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    cirrus = row_of(board, "cirrus")
    assert cirrus.win_rate is None and cirrus.rating is not None
    assert board.matrix.models[0] == "borealis@v1"
    atlas, cirrus_at = board.matrix.models.index("atlas@v1"), board.matrix.models.index("cirrus@v1")
    assert board.matrix.rates[cirrus_at][atlas] is None
    borealis = board.matrix.models.index("borealis@v1")
    assert board.matrix.rates[borealis][atlas] == pytest.approx(4 / 6)
    assert board.matrix.counts[borealis][atlas] == 6


def test_identical_answers_tie_once_even_when_a_judgment_of_that_pair_was_imported(db):
    campaign = CampaignFactory()
    prompt = prompt_of(campaign)
    same = pair(campaign, "borealis@v1", "atlas@v1", prompt=prompt, texts=("Paris.", "  Paris. "))
    judge(same, "a", source="imported")  # an imported annotator judged the identical pair: not counted again
    judge(same, "a")
    judge(pair(campaign, "borealis@v1", "atlas@v1"), "a")

    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    borealis = row_of(board, "borealis")
    assert (borealis.wins, borealis.losses, borealis.ties) == (1, 0, 1)
    assert borealis.win_rate == pytest.approx(0.75)
    assert board.identical_ties == 1


def test_identical_answers_without_any_comparison_still_tie(db):
    campaign = CampaignFactory()
    prompt = prompt_of(campaign)
    judge(pair(campaign, "borealis@v1", "atlas@v1", prompt=prompt), "b")
    CandidateFactory(
        prompt=prompt, model_name="cirrus", model_version="v1", text="borealis@v1 answers " + prompt.external_id
    )

    board = leaderboard_get(campaigns=[campaign], baseline="borealis")

    cirrus = row_of(board, "cirrus")
    assert (cirrus.wins, cirrus.losses, cirrus.ties, cirrus.win_rate) == (0, 0, 1, 0.5)


def test_the_source_filter_keeps_human_ai_or_all_judgments(db):
    campaign = CampaignFactory()
    comparison = pair(campaign, "borealis@v1", "atlas@v1")
    judge(comparison, "a")
    judge(comparison, "a", source="imported")
    judge(comparison, "b", source="ai")

    def wins(source: str) -> tuple[int, int]:
        borealis = row_of(leaderboard_get(campaigns=[campaign], source=source, baseline="atlas"), "borealis")
        return borealis.wins, borealis.losses

    assert wins("human") == (2, 0)
    assert wins("ai") == (0, 1)
    assert wins("all") == (2, 1)
    with pytest.raises(LeaderboardError) as error:
        leaderboard_get(campaigns=[campaign], source="robots")
    assert error.value.field == "source"


def test_locale_and_tag_filters_keep_their_prompts_and_list_the_tabs(db):
    campaign = CampaignFactory()
    judge(pair(campaign, "borealis@v1", "atlas@v1", locale="en-US", tags={"scenario": "refund"}), "a")
    judge(pair(campaign, "borealis@v1", "atlas@v1", locale="ja-JP", tags={"scenario": "refund"}), "b")
    judge(pair(campaign, "borealis@v1", "atlas@v1", locale="ja-JP", tags={"scenario": "billing"}), "b")

    def rate(**filters) -> float:
        return row_of(leaderboard_get(campaigns=[campaign], baseline="atlas", **filters), "borealis").win_rate

    assert rate(locale="en-US") == 1.0
    assert rate(locale="ja-JP") == 0.0
    assert rate(tag="scenario=refund") == 0.5
    assert rate(tag="scenario") == pytest.approx(1 / 3)
    assert rate(locale="ja-JP", tag="scenario=refund") == 0.0
    board = leaderboard_get(campaigns=[campaign], locale="fr-FR")
    assert board.models == [] and board.note
    assert board.locales == ["en-US", "ja-JP"] and board.tags == ["scenario=billing", "scenario=refund"]


def test_a_baseline_with_several_versions_needs_its_version(db):
    campaign = CampaignFactory()
    judge(pair(campaign, "atlas@v2", "atlas@v1"), "a")
    judge(pair(campaign, "atlas@v1", "atlas@v2"), "tie")

    with pytest.raises(LeaderboardError, match="atlas@v1, atlas@v2") as error:
        leaderboard_get(campaigns=[campaign], baseline="atlas")
    assert error.value.field == "baseline"
    with pytest.raises(LeaderboardError, match="not a model"):
        leaderboard_get(campaigns=[campaign], baseline="zephyr")
    board = leaderboard_get(campaigns=[campaign], baseline="atlas@v1")
    assert next(row for row in board.models if row.version == "v2").win_rate == pytest.approx(0.75)


def test_escalations_count_only_once_resolved_and_a_discard_drops_the_pair(db, lena):
    campaign = CampaignFactory()
    open_escalation = pair(campaign, "borealis@v1", "atlas@v1")
    judge(open_escalation, "escalate", "a")
    resolved = pair(campaign, "borealis@v1", "atlas@v1")
    EscalationResolutionFactory(judgment=JudgmentFactory(comparison=resolved, outcome="escalate"), decision="b")
    discarded = pair(campaign, "borealis@v1", "atlas@v1")
    judge(discarded, "a", "a")
    EscalationResolutionFactory(judgment=JudgmentFactory(comparison=discarded, outcome="escalate"), decision="discard")

    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    borealis = row_of(board, "borealis")
    assert (borealis.wins, borealis.losses) == (1, 1)
    assert board.open_escalations == 1


def test_a_model_that_never_won_gets_a_regularised_rating_and_a_note(db):
    campaign = CampaignFactory()
    judge(pair(campaign, "borealis@v1", "atlas@v1"), "a", "a")

    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    assert "atlas@v1 never won nor tied" in board.note and "pseudo-ties" in board.note
    assert "\x1f" not in board.note  # models written as people read them, not as rankings' internal keys
    assert row_of(board, "borealis").rating > 1000
    assert row_of(board, "borealis").win_rate == 1.0


def test_an_undecided_model_says_how_many_judgments_would_separate_it_from_parity(db):
    campaign = CampaignFactory()
    for outcome in ["a", "a", "b", "a", "tie", "b", "a", "a"]:
        judge(pair(campaign, "borealis@v1", "atlas@v1"), outcome)

    borealis = row_of(leaderboard_get(campaigns=[campaign], baseline="atlas"), "borealis")

    low, high = borealis.win_rate_ci
    assert low <= 0.5 <= high
    assert borealis.judgments_to_separate > 0


# --- the API ---------------------------------------------------------------------------------------------------


def test_judgments_of_flagged_reviewers_are_left_out_and_counted_like_the_export_does(db, lena):
    campaign = CampaignFactory(slug="flagged")
    other = CampaignFactory(slug="elsewhere")
    comparison = pair(campaign, "borealis@v1", "atlas@v1")
    kept, flagged_here, flagged_everywhere, flagged_elsewhere = judge(comparison, "a", "b", "b", "b")
    ReviewerFlagFactory(reviewer=flagged_here.reviewer, campaign=campaign, flagged_by=lena)
    ReviewerFlagFactory(reviewer=flagged_everywhere.reviewer, campaign=None, flagged_by=lena)
    ReviewerFlagFactory(reviewer=flagged_elsewhere.reviewer, campaign=other, flagged_by=lena)
    ReviewerFlagFactory(reviewer=kept.reviewer, campaign=campaign, flagged_by=lena, active=False)  # lifted

    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    borealis = row_of(board, "borealis")
    assert (borealis.wins, borealis.losses) == (1, 1)  # kept (a) and the one flagged in another campaign (b)
    assert board.judgments == 2 and board.flagged_judgments == 2


def test_the_page_and_the_api_say_how_many_judgments_of_flagged_reviewers_were_left_out(
    campaign, client_for, api_for, lena
):
    flagged = campaign.comparisons.order_by("id").first().judgments.order_by("id").first().reviewer
    ReviewerFlagFactory(reviewer=flagged, campaign=None, flagged_by=lena)

    body = api_for(lena).get("/api/v1/leaderboard?campaigns=eval&baseline=atlas").json()
    page = client_for(lena).get("/evaluation/leaderboard?campaigns=eval&baseline=atlas").content.decode()

    assert body["flagged_judgments"] == 1 and body["judgments"] == 7
    assert "1 judgment of flagged reviewers left out" in page


def test_the_api_answers_the_documented_shape(campaign, api_for, lena):
    response = api_for(lena).get("/api/v1/leaderboard?campaigns=eval&source=human&baseline=atlas")

    assert response.status_code == 200
    body = response.json()
    assert body["baseline"] == "atlas@v1" and body["campaigns"] == ["eval"]
    borealis = next(row for row in body["models"] if row["model"] == "borealis")
    assert set(borealis) >= {"model", "version", "score", "rating", "rating_ci", "win_rate", "win_rate_ci", "judgments"}
    assert borealis["version"] == "v1" and borealis["win_rate"] == pytest.approx(4 / 6)
    assert len(borealis["win_rate_ci"]) == 2 and len(borealis["rating_ci"]) == 2
    atlas = next(row for row in body["models"] if row["model"] == "atlas")
    assert atlas["rating"] == pytest.approx(1000) and atlas["win_rate"] is None
    assert body["matrix"]["models"] == ["borealis@v1", "atlas@v1"]
    assert body["matrix"]["rates"][0][0] is None


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("campaigns=eval,nope", "campaigns", "no such campaign: nope"),
        ("campaigns=bad%20slug", "campaigns", "slugs separated by commas"),
        ("", "campaigns", "required"),
        ("campaigns=eval&source=robots", "source", "robots"),
        ("campaigns=eval&baseline=zephyr", "baseline", "not a model"),
    ],
)
def test_the_api_rejects_a_bad_query_with_a_400_naming_the_field(campaign, api_for, lena, query, field, words):
    response = api_for(lena).get(f"/api/v1/leaderboard?{query}")

    assert response.status_code == 400
    assert words in " ".join(response.json()[field])


def test_the_api_asks_for_the_version_of_an_ambiguous_baseline(campaign, api_for, lena):
    judge(pair(campaign, "atlas@v2", "atlas@v1"), "a")

    response = api_for(lena).get("/api/v1/leaderboard?campaigns=eval&baseline=atlas")

    assert response.status_code == 400
    assert "name one of atlas@v1, atlas@v2" in response.json()["baseline"][0]
    assert api_for(lena).get("/api/v1/leaderboard?campaigns=eval&baseline=atlas@v2").status_code == 200


def test_reviewers_may_not_read_the_leaderboard(campaign, api_for, alice):
    assert api_for(alice).get("/api/v1/leaderboard?campaigns=eval").status_code == 403


def test_an_empty_campaign_gives_an_empty_leaderboard_with_a_note(db, api_for, lena):
    CampaignFactory(slug="empty")

    body = api_for(lena).get("/api/v1/leaderboard?campaigns=empty").json()

    assert body["models"] == [] and body["note"] == "No judgments yet under these filters."


def test_a_baseline_not_judged_under_the_filters_leaves_ratings_on_their_mean_and_says_so(db):
    campaign = CampaignFactory()
    judge(pair(campaign, "borealis@v1", "atlas@v1", locale="en-US"), "a")
    judge(pair(campaign, "borealis@v1", "cirrus@v1", locale="ja-JP"), "a", "b")

    board = leaderboard_get(campaigns=[campaign], baseline="atlas", locale="ja-JP")

    assert "atlas@v1 has no judgment under these filters" in board.note
    assert sum(row.rating for row in board.models) / 2 == pytest.approx(1000)
    assert all(row.win_rate is None for row in board.models)


def test_overlapping_neighbours_say_how_many_more_judgments_would_separate_them(db):
    campaign = CampaignFactory()
    for index, outcome in enumerate(["a", "b", "a", "tie", "a", "b", "a", "b"]):
        judge(pair(campaign, "borealis@v1", "atlas@v1"), outcome)
        judge(pair(campaign, "cirrus@v1", "atlas@v1"), "a" if index % 4 else "b")

    board = leaderboard_get(campaigns=[campaign], baseline="atlas")

    first, second, last = board.models
    assert first.rating_ci[0] <= second.rating_ci[1]  # the two challengers overlap
    assert first.judgments_to_separate_next > 0
    assert last.judgments_to_separate_next is None  # nothing below the last
