"""Dashboard figures on small hand-made campaigns (pure arrays, no database); expected values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from annotate.quality.agreement import cohen_kappa
from annotate.quality.arrays import Coded, JudgmentArrays
from annotate.quality.metrics import MAX_SLICES, coded_slices, compute_quality, ordinal_values, time_buckets
from annotate.quality.reviewers import leave_one_out_majority, pairwise_kappas, reviewer_rows, two_sided_binomial_p

A, B, TIE, BOTH_BAD, ESCALATE = range(5)
DAY = 86_400


def make(
    reviewer: list[int],
    comparison: list[int],
    outcome: list[int],
    *,
    a_on_left: list[bool] | None = None,
    time_ms: list[int] | None = None,
    created_at: list[float] | None = None,
    strength: list[int] | None = None,
    order_consistent: list[float] | None = None,
) -> JudgmentArrays:
    n = len(outcome)
    return JudgmentArrays(
        reviewer=np.array(reviewer),
        comparison=np.array(comparison),
        outcome=np.array(outcome),
        strength=np.array(strength if strength is not None else [1] * n),
        a_on_left=np.array(a_on_left if a_on_left is not None else [True] * n),
        time_ms=np.array(time_ms if time_ms is not None else [30_000] * n),
        created_at=np.array(created_at if created_at is not None else [0.0] * n, dtype=float),
        gold_correct=np.full(n, np.nan),
        locale=Coded(np.zeros(n, dtype=int), ["en-US"]),
        order_consistent=np.array(order_consistent, dtype=float) if order_consistent is not None else None,
    )


def by_reviewer(arrays: JudgmentArrays) -> dict[int, dict]:
    return {row["reviewer"]: row for row in reviewer_rows(arrays)}


def test_ordinal_scale_runs_from_a_strong_to_b_strong() -> None:
    outcome = np.array([A, A, A, TIE, B, B, B, BOTH_BAD, ESCALATE, A])
    strength = np.array([2, 1, 0, -1, 0, 1, 2, -1, -1, -1])
    expected = [0, 1, 2, 3, 4, 5, 6, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(ordinal_values(outcome, strength), expected)


def test_leave_one_out_majority_needs_a_strict_plurality_of_the_others() -> None:
    # Unit 0: a, a, b → for each a the others are (a, b): split; for b the others are (a, a): a.
    # Unit 1: a, tie → each sees the other one.
    units = np.array([0, 0, 0, 1, 1])
    categories = np.array([A, A, B, A, TIE])
    np.testing.assert_array_equal(leave_one_out_majority(units, categories), [-1, -1, A, TIE, A])


def test_binomial_p_matches_hand_values() -> None:
    # 10 of 10 left: 2 × (1/2)^10; 9 of 10: 2 × 11/1024; 5 of 10: 1.
    p = two_sided_binomial_p(np.array([10, 9, 5, 0]), np.array([10, 10, 10, 0]))
    np.testing.assert_allclose(p[:3], [2 / 1024, 22 / 1024, 1.0])
    assert np.isnan(p[3])


def test_position_bias_is_flagged_at_ten_left_picks_out_of_ten_but_not_nine() -> None:
    # Reviewer 1 picks the left answer 10 times; reviewer 2 nine times (a_on_left False + b is a left pick too).
    outcomes = [A] * 5 + [B] * 5 + [A] * 9 + [B]
    a_on_left = [True] * 5 + [False] * 5 + [True] * 10
    arrays = make([1] * 10 + [2] * 10, list(range(20)), outcomes, a_on_left=a_on_left)
    rows = by_reviewer(arrays)
    assert rows[1]["left_share"] == 1.0
    assert rows[1]["position_bias"] is True
    assert rows[2]["left_share"] == 0.9
    assert rows[2]["left_p_value"] == pytest.approx(22 / 1024)
    assert rows[2]["position_bias"] is False


def test_too_fast_is_under_forty_percent_of_the_campaign_median() -> None:
    # Three reviewers take 30 s per judgment, one takes 5 s: the campaign median is 30 s, 5 < 0.4 × 30.
    reviewers = [1] * 10 + [2] * 10 + [3] * 10 + [4] * 10
    times = [30_000] * 30 + [5_000] * 9 + [40_000]
    rows = by_reviewer(make(reviewers, list(range(40)), [A] * 40, time_ms=times))
    assert rows[4]["median_seconds"] == 5.0
    assert rows[4]["too_fast"] is True
    assert [rows[r]["too_fast"] for r in (1, 2, 3)] == [False, False, False]


def test_too_fast_also_has_an_absolute_floor_whatever_the_others_do() -> None:
    # Everyone takes 2 s: nobody is under 40% of the campaign's median, but all are under a 3 s floor.
    reviewers = [1] * 10 + [2] * 10
    rows = reviewer_rows(make(reviewers, list(range(20)), [A] * 20, time_ms=[2_000] * 20), too_fast_ms=3_000)
    assert [row["too_fast"] for row in rows] == [True, True]
    # The floor off, or set below their time: the relative rule alone decides, and nobody is flagged.
    for floor in (0, 1_500):
        rows = reviewer_rows(make(reviewers, list(range(20)), [A] * 20, time_ms=[2_000] * 20), too_fast_ms=floor)
        assert [row["too_fast"] for row in rows] == [False, False]


def test_the_too_fast_floor_waits_for_ten_judgments() -> None:
    rows = reviewer_rows(make([1] * 9, list(range(9)), [A] * 9, time_ms=[500] * 9), too_fast_ms=3_000)
    assert rows[0]["too_fast"] is False


def test_low_agreement_is_twenty_points_under_the_campaign() -> None:
    # Ten pairs judged by four reviewers: 1-3 always say a, reviewer 4 always b.
    # Reviewers 1-3 agree with the others' majority (a) every time; reviewer 4 never: campaign 30/40 = 75%.
    reviewers = [r for _ in range(10) for r in (1, 2, 3, 4)]
    comparisons = [c for c in range(10) for _ in range(4)]
    outcomes = [A, A, A, B] * 10
    rows = by_reviewer(make(reviewers, comparisons, outcomes))
    assert rows[1]["majority_agreement"] == 1.0
    assert rows[4]["majority_agreement"] == 0.0
    assert rows[4]["low_agreement"] is True
    assert rows[1]["low_agreement"] is False


def test_pairwise_kappa_by_hand_and_only_from_twenty_shared_pairs() -> None:
    # Reviewer 1: a on pairs 0-9, b on 10-19. Reviewer 2: a a a a a a a a b b | a a a b b b b b b b.
    # Observed 15/20; margins (10, 10) and (11, 9): chance (110 + 90) / 400 = 0.5; kappa = (0.75 - 0.5) / 0.5.
    first = [A] * 10 + [B] * 10
    second = [A] * 8 + [B] * 2 + [A] * 3 + [B] * 7
    arrays = make([1] * 20 + [2] * 20, list(range(20)) * 2, first + second)
    (pair,) = pairwise_kappas(arrays)
    assert pair == {"reviewer_a": 1, "reviewer_b": 2, "shared": 20, "kappa": pytest.approx(0.5)}
    assert pair["kappa"] == pytest.approx(cohen_kappa(first, second))
    fewer = make([1] * 19 + [2] * 19, list(range(19)) * 2, first[:19] + second[:19])
    assert pairwise_kappas(fewer) == []


def test_pairwise_kappa_ignores_escalations_and_orients_pairs_by_reviewer_id() -> None:
    arrays = make([9] * 21 + [3] * 21, list(range(21)) * 2, [A] * 20 + [ESCALATE] + [B] * 20 + [A])
    (pair,) = pairwise_kappas(arrays)
    assert (pair["reviewer_a"], pair["reviewer_b"], pair["shared"]) == (3, 9, 20)


def test_weekly_buckets_start_on_monday_for_long_campaigns() -> None:
    # 2026-01-05 is a Monday; a campaign spanning 70 days is sliced by week.
    monday = np.datetime64("2026-01-05").astype("datetime64[s]").astype(float)
    arrays = make([1, 2, 1], [0, 0, 1], [A, A, B], created_at=[monday + 2 * DAY, monday + 3 * DAY, monday + 70 * DAY])
    unit, bucket = time_buckets(arrays)
    assert unit == "week"
    assert [str(np.datetime64(int(day), "D")) for day in bucket] == ["2026-01-05", "2026-01-05", "2026-03-16"]


def test_time_buckets_put_a_pair_on_the_day_of_its_last_judgment() -> None:
    arrays = make([1, 2, 3], [0, 0, 1], [A, A, B], created_at=[0.0, 1.5 * DAY, 0.2 * DAY])
    unit, bucket = time_buckets(arrays)
    assert unit == "day"
    assert bucket.tolist() == [1, 1, 0]


def test_empty_campaign_gives_an_empty_report() -> None:
    report = compute_quality(make([], [], []), overlap=3)
    assert report == {"judgments": 0, "comparisons": 0, "reviewers": 0, "empty": True}


def test_single_judgment_gives_nan_agreement_not_an_error() -> None:
    report = compute_quality(make([1], [0], [A]), overlap=3, n_resamples=10)
    values = {row["metric"]: row["value"] for row in report["headline"]}
    assert all(np.isnan(value) for value in values.values())
    assert report["reviewer_rows"][0]["judgments"] == 1
    assert report["kappas"] == []


def test_tag_slices_keep_the_most_frequent_values_first_and_cap_their_number() -> None:
    n = 100
    # Value i of "id" occurs once (a per-prompt id: not a useful slice), "kind" has two values.
    arrays = make(list(range(n)), list(range(n)), [A] * n)
    ids = Coded(np.arange(n), [f"p{i}" for i in range(n)])
    kinds = Coded(np.r_[np.zeros(30, dtype=int), np.ones(70, dtype=int)], ["rare", "common"])
    assert len(coded_slices(arrays, ids)) == MAX_SLICES
    assert [row["slice"] for row in coded_slices(arrays, kinds, "kind=")] == ["kind=common", "kind=rare"]


def random_campaign(seed: int, n_pairs: int = 60, n_reviewers: int = 5) -> JudgmentArrays:
    rng = np.random.default_rng(seed)
    cells = [(r, c) for c in range(n_pairs) for r in range(n_reviewers) if rng.random() < 0.7]
    reviewer, comparison = (np.array(side) for side in zip(*cells, strict=True))
    outcome = rng.choice([A, A, B, TIE, BOTH_BAD, ESCALATE], size=len(cells))
    return make(
        (reviewer * 7 + 1).tolist(),
        (comparison * 3 + 2).tolist(),
        outcome.tolist(),
        a_on_left=(rng.random(len(cells)) < 0.5).tolist(),
        time_ms=rng.integers(1_000, 90_000, len(cells)).tolist(),
    )


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_kappas_match_cohen_kappa_on_shared_items(seed: int) -> None:
    arrays = random_campaign(seed)
    pairs = pairwise_kappas(arrays, min_shared=1)
    assert pairs
    for pair in pairs:
        answered = arrays.outcome < 4
        first = dict(
            zip(
                arrays.comparison[answered & (arrays.reviewer == pair["reviewer_a"])],
                arrays.outcome[answered & (arrays.reviewer == pair["reviewer_a"])],
                strict=True,
            )
        )
        second = dict(
            zip(
                arrays.comparison[answered & (arrays.reviewer == pair["reviewer_b"])],
                arrays.outcome[answered & (arrays.reviewer == pair["reviewer_b"])],
                strict=True,
            )
        )
        shared = sorted(set(first) & set(second))
        assert pair["shared"] == len(shared)
        expected = cohen_kappa([first[c] for c in shared], [second[c] for c in shared])
        assert pair["kappa"] == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize("seed", range(3))
def test_reviewer_medians_and_shares_match_a_plain_loop(seed: int) -> None:
    arrays = random_campaign(seed)
    for row in reviewer_rows(arrays):
        mine = arrays.reviewer == row["reviewer"]
        assert row["judgments"] == mine.sum()
        assert row["median_seconds"] == pytest.approx(np.median(arrays.time_ms[mine]) / 1000)
        decided = mine & ((arrays.outcome == A) | (arrays.outcome == B))
        left = decided & ((arrays.outcome == A) == arrays.a_on_left)
        assert row["left_share"] == pytest.approx(left.sum() / decided.sum())
        assert row["escalate_share"] == pytest.approx((arrays.outcome[mine] == ESCALATE).mean())


def test_binomial_p_equals_scipy_binomtest() -> None:
    from scipy.stats import binomtest

    trials = np.array([n for n in range(1, 31) for _ in range(n + 1)])
    successes = np.array([k for n in range(1, 31) for k in range(n + 1)])
    expected = [binomtest(int(k), int(n), 0.5).pvalue for k, n in zip(successes, trials, strict=True)]
    np.testing.assert_allclose(two_sided_binomial_p(successes, trials), expected, rtol=1e-9)


def test_outcome_shares_and_gold_accuracy_by_hand() -> None:
    # One reviewer: a, tie, both bad, escalate, a → ties 1/5, both bad 1/5, escalations 1/5; gold 2 right of 3.
    arrays = make([1] * 5, [0, 1, 2, 3, 4], [A, TIE, BOTH_BAD, ESCALATE, A])
    arrays = JudgmentArrays(**{**arrays.__dict__, "gold_correct": np.array([1.0, np.nan, 0.0, 1.0, np.nan])})
    (row,) = reviewer_rows(arrays)
    assert (row["tie_share"], row["both_bad_share"], row["escalate_share"]) == (0.2, 0.2, 0.2)
    assert (row["gold_accuracy"], row["gold_judgments"]) == (pytest.approx(2 / 3), 3)
    # Left picks count a and b only: two a's with A on the left → 2 of 2.
    assert row["left_share"] == 1.0


def test_escalations_are_missing_values_not_answers() -> None:
    # Pair 0: a, a, escalate; pair 1: a, b. Nominal alpha as if the escalation were absent:
    # values a ×3, b ×1 → within 2 (pair 1), expected 16 − 10 = 6 → 1 − 3 × 2 / 6 = 0.
    with_escalation = make([1, 2, 3, 1, 2], [0, 0, 0, 1, 1], [A, A, ESCALATE, A, B])
    report = compute_quality(with_escalation, overlap=2, n_resamples=10)
    headline = {row["metric"]: row for row in report["headline"]}
    assert headline["Outcome alpha (nominal)"]["value"] == pytest.approx(0.0)
    # Fleiss counts the pairs with exactly 2 answers: both of them.
    assert headline["Fleiss' kappa (2 reviewers)"]["units"] == 2
    assert report["reviewer_rows"][2]["escalate_share"] == 1.0
