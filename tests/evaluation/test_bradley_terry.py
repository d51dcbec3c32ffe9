"""Bradley–Terry against evalica and the LLMFAO reference; ratings, their bootstrap, degenerate data; Rao–Kupper."""

from __future__ import annotations

import itertools
import math

import evalica
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from evaluation.pairwise import Judgment
from evaluation.rankings import RATING_SCALE, RankingError, bradley_terry, rank, rao_kupper

FAST = settings(max_examples=60, deadline=None)
EVALICA_WINNERS = {"a": evalica.Winner.X, "b": evalica.Winner.Y, "tie": evalica.Winner.Draw}


def random_judgments(seed: int, n_models: int, n_judgments: int, n_prompts: int, tie_share: float) -> list[Judgment]:
    """Judgments of random pairs from latent strengths, with ties and a few both-bad votes."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_models)
    judgments = []
    for _ in range(n_judgments):
        a, b = rng.choice(n_models, 2, replace=False)
        roll = rng.random()
        if roll < 0.05:
            outcome = "both_bad"
        elif roll < 0.05 + tie_share:
            outcome = "tie"
        else:
            outcome = "a" if rng.random() < 1 / (1 + math.exp(strength[b] - strength[a])) else "b"
        judgments.append(Judgment(int(rng.integers(n_prompts)), f"m{a}", f"m{b}", outcome))
    return judgments


def identifiable(judgments: list[Judgment], *, ties_count: bool = True) -> bool:
    """Brute force over every split of the models: each side got credit (a win, or a tie) against the other."""
    models = sorted({j.model_a for j in judgments} | {j.model_b for j in judgments})
    credit_a, credit_b = ("a", "tie") if ties_count else ("a",), ("b", "tie") if ties_count else ("b",)
    credited = {(j.model_a, j.model_b) for j in judgments if j.outcome in credit_a}
    credited |= {(j.model_b, j.model_a) for j in judgments if j.outcome in credit_b}
    for size in range(1, len(models)):
        for group in itertools.combinations(models, size):
            inside = set(group)
            if not any(winner in inside and loser not in inside for winner, loser in credited):
                return False
    return True


def evalica_scores(judgments: list[Judgment]) -> dict[str, float]:
    """evalica's Bradley–Terry (ties half a win to each side), run to convergence and normalised to sum 1."""
    rated = [j for j in judgments if j.outcome != "both_bad"]
    result = evalica.bradley_terry(
        [j.model_a for j in rated],
        [j.model_b for j in rated],
        [EVALICA_WINNERS[j.outcome] for j in rated],
        tolerance=1e-14,
        limit=1_000_000,
    )
    return (result.scores / result.scores.sum()).to_dict()


@st.composite
def judgment_sets(draw: st.DrawFn) -> list[Judgment]:
    return random_judgments(
        seed=draw(st.integers(0, 2**32 - 1)),
        n_models=draw(st.integers(2, 7)),
        n_judgments=draw(st.integers(1, 80)),
        n_prompts=draw(st.integers(1, 30)),
        tie_share=draw(st.sampled_from([0.0, 0.3])),
    )


@FAST
@given(judgment_sets())
def test_bradley_terry_equals_evalica_on_random_judgments(judgments):
    assume(identifiable(judgments))

    ours = bradley_terry(judgments)
    theirs = evalica_scores(judgments)

    assert ours.scores.sum() == pytest.approx(1, abs=1e-12)
    assert max(abs(score - theirs[model]) for model, score in zip(ours.models, ours.scores, strict=True)) < 1e-8


@FAST
@given(judgment_sets())
def test_scores_that_do_not_exist_are_refused_and_a_prior_makes_them_finite(judgments):
    assume(not identifiable(judgments))

    with pytest.raises(RankingError, match="pass a prior"):
        bradley_terry(judgments)
    regularised = bradley_terry(judgments, prior=0.01)
    assert np.all(np.isfinite(regularised.ratings())) and np.all(regularised.scores > 0)


def test_bradley_terry_equals_the_llmfao_reference_scores(llmfao_judgments, llmfao_golden_bradley_terry):
    fit = bradley_terry(llmfao_judgments)

    assert set(fit.models) == set(llmfao_golden_bradley_terry)
    worst = max(abs(score - llmfao_golden_bradley_terry[m]) for m, score in zip(fit.models, fit.scores, strict=True))
    assert worst < 1e-6


def test_bradley_terry_equals_evalica_on_the_llmfao_votes(llmfao_judgments):
    fit = bradley_terry(llmfao_judgments)
    theirs = evalica_scores(llmfao_judgments)

    assert max(abs(score - theirs[m]) for m, score in zip(fit.models, fit.scores, strict=True)) < 1e-9


def test_ratings_put_400_points_on_odds_of_ten_to_one():
    # m wins twice and ties twice: 3 of 4 points (ties count half), odds 3 : 1, so 400 · log10(3) points above n.
    judgments = [Judgment(1, "m", "n", "a"), Judgment(2, "n", "m", "b"), Judgment(3, "m", "n", "tie")]
    judgments += [Judgment(4, "n", "m", "tie")]

    fit = bradley_terry(judgments)

    assert RATING_SCALE == pytest.approx(400 / math.log(10))
    assert fit.scores == pytest.approx([0.75, 0.25], abs=1e-10)
    assert fit.ratings(baseline="n") == pytest.approx([1000 + 400 * math.log10(3), 1000], abs=1e-6)
    assert fit.ratings().mean() == pytest.approx(1000)


def test_a_model_that_never_won_nor_tied_is_named():
    judgments = [Judgment(1, "m", "n", "a"), Judgment(2, "n", "m", "a"), Judgment(3, "o", "m", "b")]

    with pytest.raises(RankingError, match="never won nor tied: o"):
        bradley_terry(judgments)


def test_models_that_never_met_are_named_by_group():
    judgments = [Judgment(1, "m", "n", "a"), Judgment(2, "n", "m", "a"), Judgment(3, "o", "p", "tie")]

    with pytest.raises(RankingError, match="m, n | o, p"):
        bradley_terry(judgments)


def test_ranking_anchors_the_baseline_at_1000_in_every_resample(llmfao_judgments):
    ranking = rank(llmfao_judgments, baseline="GPT 3.5 Turbo", resamples=200, seed=3)

    by_model = {entry.model: entry for entry in ranking.models}
    baseline = by_model["GPT 3.5 Turbo"]
    assert baseline.rating == pytest.approx(1000)
    assert (baseline.rating_interval.low, baseline.rating_interval.high) == pytest.approx((1000, 1000))
    assert [entry.score for entry in ranking.models] == sorted((entry.score for entry in ranking.models), reverse=True)
    assert all(e.rating_interval.low <= e.rating <= e.rating_interval.high for e in ranking.models)
    assert sum(entry.judgments for entry in ranking.models) == 2 * len(llmfao_judgments)


def test_ranking_without_baseline_centres_the_ratings_and_is_reproducible(llmfao_judgments):
    first = rank(llmfao_judgments, resamples=100, seed=11)
    again = rank(llmfao_judgments, resamples=100, seed=11)
    other = rank(llmfao_judgments, resamples=100, seed=12)

    assert np.mean([entry.rating for entry in first.models]) == pytest.approx(1000)
    assert first == again
    assert first.models[0].rating_interval != other.models[0].rating_interval


def test_an_unknown_baseline_is_refused_by_name():
    with pytest.raises(RankingError, match="baseline: 'zzz'"):
        rank([Judgment(1, "m", "n", "tie")], baseline="zzz", resamples=10)


def test_resamples_that_fall_apart_are_regularised_and_counted():
    # n wins once and ties once on two prompts: resamples holding only the win leave m without credit.
    judgments = [Judgment(1, "m", "n", "b"), Judgment(2, "m", "n", "tie")]

    ranking = rank(judgments, resamples=200, seed=0)

    assert 0 < ranking.regularised_resamples < 200
    assert all(np.isfinite([e.rating_interval.low, e.rating_interval.high]).all() for e in ranking.models)


def rao_kupper_log_likelihood(judgments: list[Judgment], models: list[str], log_p: np.ndarray, theta: float) -> float:
    p = dict(zip(models, np.exp(log_p), strict=True))
    total = 0.0
    for j in judgments:
        a, b = p[j.model_a], p[j.model_b]
        if j.outcome == "a":
            total += math.log(a / (a + theta * b))
        elif j.outcome == "b":
            total += math.log(b / (b + theta * a))
        elif j.outcome == "tie":
            total += math.log((theta**2 - 1) * a * b / ((a + theta * b) * (b + theta * a)))
    return total


@settings(max_examples=25, deadline=None)
@given(judgment_sets())
def test_rao_kupper_reaches_the_likelihood_a_generic_optimiser_finds(judgments):
    assume(identifiable(judgments, ties_count=False) and any(j.outcome == "tie" for j in judgments))

    fit = rao_kupper(judgments)
    models = list(fit.models)

    def negative(x: np.ndarray) -> float:
        return -rao_kupper_log_likelihood(judgments, models, x[:-1], 1 + math.exp(x[-1]))

    start = np.zeros(len(models) + 1)
    generic = minimize(negative, start, method="BFGS", options={"gtol": 1e-9})
    ours = rao_kupper_log_likelihood(judgments, models, np.log(fit.scores), fit.theta)
    assert fit.theta > 1 and fit.scores.sum() == pytest.approx(1)
    assert ours >= -generic.fun - 1e-7


def test_rao_kupper_without_ties_is_bradley_terry_on_the_wins():
    judgments = [Judgment(p, "m", "n", o) for p, o in enumerate("aabab")] + [Judgment(9, "n", "o", "a")]
    judgments += [Judgment(10, "o", "m", "a"), Judgment(11, "o", "n", "a")]

    fit = rao_kupper(judgments)

    assert fit.theta == 1
    assert fit.scores == pytest.approx(bradley_terry(judgments).scores, abs=1e-9)


def test_rao_kupper_on_llmfao_finds_a_tie_parameter_for_the_39_percent_ties(llmfao_judgments):
    fit = rao_kupper(llmfao_judgments)
    bt = bradley_terry(llmfao_judgments)

    assert 1.5 < fit.theta < 4
    assert np.corrcoef(np.log(fit.scores), np.log(bt.scores))[0, 1] > 0.99
    with pytest.raises(RankingError, match="every rated judgment is a tie"):
        rao_kupper([Judgment(1, "m", "n", "tie"), Judgment(2, "n", "m", "tie")])


def test_rao_kupper_refuses_a_model_that_never_lost_even_with_ties():
    # Bradley–Terry is fine here (n's ties earn it credit); Rao–Kupper's likelihood keeps rising as θ → ∞.
    judgments = [Judgment(1, "m", "n", "a"), Judgment(2, "m", "n", "tie"), Judgment(3, "n", "m", "b")]

    assert bradley_terry(judgments).scores[0] > 0.5
    with pytest.raises(RankingError, match="never won: n; use bradley_terry"):
        rao_kupper(judgments)
