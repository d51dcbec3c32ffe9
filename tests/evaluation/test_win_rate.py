"""Win rates (ties half, both-bad apart), their bootstrap over prompts, the matrix, and judgments to separate."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.pairwise import Interval, Judgment
from evaluation.win_rates import judgments_to_separate, wilson_interval, win_rate, win_rate_matrix


def judgments_of(pairs: list[tuple[object, str, str, str]]) -> list[Judgment]:
    return [Judgment(prompt, a, b, outcome) for prompt, a, b, outcome in pairs]


def test_alpaca_eval_win_rate_matches_the_published_leaderboard(alpaca_judgments):
    result = win_rate(alpaca_judgments, model="alpaca-farm-ppo-human", opponent="text_davinci_003")

    assert (result.wins, result.losses, result.ties, result.both_bad) == (328, 469, 8, 0)
    assert result.judgments == 805
    assert result.rate == pytest.approx(0.412422360248447, abs=1e-12)  # (328 + 0.5 × 8) / 805
    # The leaderboard's standard error is 1.7272 points; a 95% bootstrap interval spans about 2 × 1.96 of them.
    assert result.interval.low < result.rate < result.interval.high
    assert result.interval.width == pytest.approx(2 * 1.96 * 0.017271813, rel=0.1)


def test_the_opponent_sees_the_complementary_rate(alpaca_judgments):
    baseline = win_rate(alpaca_judgments, model="text_davinci_003", opponent="alpaca-farm-ppo-human")

    assert (baseline.wins, baseline.losses, baseline.ties) == (469, 328, 8)
    assert baseline.rate == pytest.approx(1 - 0.412422360248447, abs=1e-12)


def test_both_bad_is_counted_apart_and_left_out_of_the_rate():
    judgments = judgments_of(
        [(1, "m", "n", "a"), (2, "n", "m", "b"), (3, "m", "n", "a"), (4, "m", "n", "b")]
        + [(5, "m", "n", "tie"), (6, "n", "m", "tie")]
        + [(7, "m", "n", "both_bad"), (8, "n", "m", "both_bad"), (9, "m", "n", "both_bad"), (1, "m", "n", "both_bad")]
        + [(1, "m", "o", "b"), (2, "n", "o", "a")]  # other pairs do not count
    )

    result = win_rate(judgments, model="m", opponent="n")

    assert (result.wins, result.losses, result.ties, result.both_bad) == (3, 1, 2, 4)
    assert result.rate == pytest.approx((3 + 0.5 * 2) / 6)
    assert result.judgments == 10


def test_models_that_never_met_have_no_rate():
    judgments = judgments_of([(1, "m", "n", "a"), (2, "n", "o", "b"), (3, "m", "o", "both_bad")])

    assert win_rate(judgments, model="m", opponent="o").rate is None
    assert win_rate(judgments, model="m", opponent="o").both_bad == 1
    with pytest.raises(ValueError, match="opponent"):
        win_rate(judgments, model="m", opponent="m")


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    rng = np.random.default_rng(5)
    judgments = [Judgment(p % 30, "m", "n", rng.choice(["a", "b", "tie", "both_bad"])) for p in range(200)]

    def interval(seed: int) -> Interval:
        return win_rate(judgments, model="m", opponent="n", seed=seed).interval

    assert interval(7) == interval(7)
    assert interval(7) != interval(8)


def test_the_bootstrap_resamples_prompts_not_judgments():
    # 40 prompts, 10 votes each, unanimous per prompt: 10× the judgments but only 40 independent units. Resampling
    # judgments would give the interval of 400 independent votes, about sqrt(10) times too narrow.
    rng = np.random.default_rng(0)
    winners = rng.random(40) < 0.6
    clustered = [Judgment(p, "m", "n", "a" if winners[p] else "b") for p in range(40) for _ in range(10)]
    independent = [Judgment(p * 10 + v, "m", "n", "a" if winners[p] else "b") for p in range(40) for v in range(10)]

    clustered_width = win_rate(clustered, model="m", opponent="n").interval.width
    independent_width = win_rate(independent, model="m", opponent="n").interval.width

    assert clustered_width == pytest.approx(np.sqrt(10) * independent_width, rel=0.2)


def test_the_matrix_holds_every_head_to_head_rate():
    judgments = judgments_of(
        [(1, "m", "n", "a"), (2, "n", "m", "tie"), (3, "m", "n", "both_bad"), (1, "o", "m", "a"), (2, "n", "o", "b")]
    )

    matrix = win_rate_matrix(judgments)

    assert matrix.models == ("m", "n", "o")
    for i, model in enumerate(matrix.models):
        for j, opponent in enumerate(matrix.models):
            expected = win_rate(judgments, model=model, opponent=opponent).rate if i != j else None
            assert (np.isnan(matrix.rates[i, j]) and expected is None) or matrix.rates[i, j] == expected
    assert matrix.rates[0, 1] == 0.75  # one win and one tie; the both-bad vote is out
    assert matrix.counts[0, 1] == 2


def test_overlapping_intervals_need_judgments_until_their_shrunk_widths_fit_the_gap():
    # Facing half-widths 0.25 + 0.125 against a gap of 0.25: n' = 100 × 1.5² = 225, i.e. 125 more judgments;
    # at 225 the half-widths shrink by sqrt(100 / 225) to 0.1667 + 0.0833 = 0.25, exactly the gap.
    needed = judgments_to_separate(
        estimate_a=0.75, interval_a=Interval(0.5, 0.9), estimate_b=0.5, interval_b=Interval(0.25, 0.625), judgments=100
    )

    assert needed == 125
    swapped = judgments_to_separate(
        estimate_a=0.5, interval_a=Interval(0.25, 0.625), estimate_b=0.75, interval_b=Interval(0.5, 0.9), judgments=100
    )
    assert swapped == needed


def test_separated_intervals_need_nothing_and_equal_estimates_cannot_be_separated():
    assert (
        judgments_to_separate(
            estimate_a=0.7,
            interval_a=Interval(0.65, 0.75),
            estimate_b=0.5,
            interval_b=Interval(0.45, 0.55),
            judgments=50,
        )
        == 0
    )
    assert (
        judgments_to_separate(
            estimate_a=0.5, interval_a=Interval(0.4, 0.6), estimate_b=0.5, interval_b=Interval(0.45, 0.55), judgments=50
        )
        is None
    )


def test_a_judgment_rejects_a_model_against_itself_and_unknown_outcomes():
    with pytest.raises(ValueError, match="model_a and model_b"):
        Judgment(1, "m", "m", "a")
    with pytest.raises(ValueError):
        Judgment(1, "m", "n", "left")


def test_a_unanimous_result_gets_wilsons_interval_not_a_point():
    # Four prompts, the model lost each: every bootstrap resample is 0%, which would claim certainty.
    judgments = [Judgment(prompt_id=p, model_a="m", model_b="n", outcome="b") for p in range(4)]
    result = win_rate(judgments, model="m", opponent="n")
    assert result.rate == 0.0
    # Wilson at p = 0: upper = z² / (n + z²) with z = 1.95996.
    assert result.interval.low == 0.0
    assert result.interval.high == pytest.approx(1.959964**2 / (4 + 1.959964**2), abs=1e-6)


def test_wilsons_interval_matches_the_textbook_figures():
    # Newcombe (1998), table I: 81 of 263 → 0.2553 to 0.3662; 15 of 148 → 0.0624 to 0.1605.
    assert wilson_interval(81 / 263, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(15 / 148, 148) == pytest.approx((0.0624, 0.1605), abs=1e-4)


@pytest.mark.parametrize(("successes", "n"), [(0, 1), (0, 4), (3, 7), (50, 50), (12, 400)])
def test_wilsons_interval_equals_statsmodels(successes, n):
    from statsmodels.stats.proportion import proportion_confint

    expected = proportion_confint(successes, n, alpha=0.05, method="wilson")
    assert wilson_interval(successes / n, n) == pytest.approx(expected, abs=1e-12)
