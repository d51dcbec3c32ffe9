"""Bradley–Terry and Rao–Kupper rankings of models from pairwise judgments, with bootstrap intervals on ratings.

Pure numpy/scipy (no Django): judgments come in as `pairwise.Judgment` dataclasses (ties half a win to each side,
both-bad out, intervals bootstrapped over prompts: `pairwise` gives the conventions), results go out as dataclasses.

Ratings are on the Elo scale of Chatbot Arena: 400 / ln 10 rating points per unit of log-strength, so a model rated
400 points above another beats it with odds 10 : 1; the baseline sits at 1000 (without one, the mean).

The Bradley–Terry maximum-likelihood estimate exists only when, for every split of the models into two groups,
each group got some credit (a win or a tie) against the other — equivalently, the directed graph with an edge
i → j whenever i got credit against j is strongly connected (Hunter 2004, assumption 1). Otherwise some score runs
off to 0 or infinity (a model that never won nor tied, or groups of models that never met). We refuse such data
with a `RankingError` naming the models, unless the caller asks for a prior: `prior` pseudo-ties between every two
models, which keeps every score finite and pulls them slightly together (0.01 is a good choice for small
campaigns). A bootstrap resample can fall apart this way even when the full data does not; such resamples are fit
with the prior raised to `RESAMPLE_PRIOR` and counted in the result, so nothing is hidden.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components

from evaluation.pairwise import Interval, Judgment, bootstrap, encode, percentile_interval

# Rating points per unit of natural-log strength: 400 points = a factor of 10 in strength (Chatbot Arena's scale).
RATING_SCALE = 400 / math.log(10)
RATING_ANCHOR = 1000.0
# Pseudo-ties per pair of models for bootstrap resamples whose comparison graph is not strongly connected.
RESAMPLE_PRIOR = 0.01
# MM converges linearly; LLMFAO's 59 models need 75 iterations to 1e-10, so this only stops a runaway.
MAX_ITERATIONS = 100_000


class RankingError(ValueError):
    """The judgments cannot give the asked-for statistic (e.g. the maximum-likelihood scores do not exist).

    `problem` says what is wrong without naming models and `models` names them, so that a caller can write them its
    own way (the leaderboard writes `name@version`).
    """

    def __init__(self, message: str, *, problem: str = "", models: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problem = problem or message
        self.models = tuple(models)


# --- Bradley–Terry -------------------------------------------------------------------------------------------------


def _identifiable(credit: np.ndarray) -> bool:
    """Whether the graph with an edge i → j wherever i got credit against j is strongly connected."""
    return connected_components(credit > 0, directed=True, connection="strong")[0] <= 1


def _check_identifiable(credit: np.ndarray, models: Sequence[str], *, ties_count: bool = True) -> None:
    """Raise a RankingError naming the models unless every split of the models got credit both ways.

    `credit` holds wins and ties for Bradley–Terry; for Rao–Kupper (ties_count=False) only wins, since there a
    model that never lost fits perfectly with θ → ∞.
    """
    if _identifiable(credit):
        return
    n_groups, group = connected_components(credit > 0, directed=True, connection="strong")
    got = credit.sum(axis=1)
    gave = credit.sum(axis=0)
    nor_tied = " nor tied" if ties_count else ""
    if (got == 0).any():
        named = [m for m, g in zip(models, got, strict=True) if g == 0]
        problem, names = f"never won{nor_tied}", ", ".join(named)
    elif (gave == 0).any():
        named = [m for m, g in zip(models, gave, strict=True) if g == 0]
        problem, names = f"never lost{nor_tied}", ", ".join(named)
    else:
        groups = [[m for m, g in zip(models, group, strict=True) if g == label] for label in range(n_groups)]
        named = [m for g in groups for m in g]
        problem = "fall into groups that never met or where one won every comparison"
        names = " | ".join(", ".join(g) for g in groups)
    remedy = "pass a prior > 0" if ties_count else "use bradley_terry"
    message = f"the maximum-likelihood scores do not exist, models {problem}: {names}; {remedy}"
    raise RankingError(message, problem=problem, models=named)


def _with_prior(credit: np.ndarray, prior: float) -> np.ndarray:
    """Add `prior` pseudo-ties between every two models (half a win to each side)."""
    return credit + prior / 2 * (1 - np.eye(len(credit)))


def _bradley_terry_mm(
    credit: np.ndarray, start: np.ndarray, *, tolerance: float, max_iterations: int
) -> tuple[np.ndarray, int]:
    """Hunter's (2004) MM iteration for Bradley–Terry on a (K, K) credit matrix, scores normalised to sum 1.

        p_i ← W_i / Σ_j N_ij / (p_i + p_j),   W_i = Σ_j W_ij,  N_ij = W_ij + W_ji

    maximises Σ_ij W_ij ln(p_i / (p_i + p_j)); it stops when no score moves by `tolerance` or more.
    """
    totals = credit + credit.T
    got = credit.sum(axis=1)
    scores = start / start.sum()
    for iteration in range(1, max_iterations + 1):
        updated = got / (totals / (scores[:, None] + scores[None, :])).sum(axis=1)
        updated /= updated.sum()
        if np.max(np.abs(updated - scores)) < tolerance:
            return updated, iteration
        scores = updated
    raise RankingError(f"Bradley–Terry did not converge to {tolerance} in {max_iterations} iterations")


@dataclass(frozen=True)
class BradleyTerry:
    """Bradley–Terry strengths: P(i beats j) = scores[i] / (scores[i] + scores[j]), scores summing to 1."""

    models: tuple[str, ...]
    scores: np.ndarray
    iterations: int
    prior: float

    def ratings(self, baseline: str | None = None) -> np.ndarray:
        """Elo-scale ratings, 1000 + RATING_SCALE · (ln p_i − ln p_baseline) (without a baseline: − mean ln p)."""
        return _ratings(self.scores, None if baseline is None else _model_index(self.models, baseline))


def _model_index(models: Sequence[str], model: str) -> int:
    try:
        return models.index(model)
    except ValueError:
        raise RankingError(f"baseline: {model!r} is not among the judged models") from None


def _ratings(scores: np.ndarray, baseline: int | None) -> np.ndarray:
    strength = np.log(scores)
    anchor = strength.mean() if baseline is None else strength[baseline]
    return RATING_ANCHOR + RATING_SCALE * (strength - anchor)


def bradley_terry(
    judgments: Iterable[Judgment], *, prior: float = 0.0, tolerance: float = 1e-10, max_iterations: int = MAX_ITERATIONS
) -> BradleyTerry:
    """Maximum-likelihood Bradley–Terry scores of every judged model, ties counting half a win to each side.

    Raises RankingError when the scores do not exist (see the module docstring) and `prior` is 0.
    """
    data = encode(judgments)
    return _fit_bradley_terry(data.credit_matrix(), data.models, prior, tolerance, max_iterations)


def _fit_bradley_terry(
    credit: np.ndarray, models: tuple[str, ...], prior: float, tolerance: float, max_iterations: int
) -> BradleyTerry:
    if prior > 0:
        credit = _with_prior(credit, prior)
    _check_identifiable(credit, models)
    scores, iterations = _bradley_terry_mm(
        credit, np.ones(len(models)), tolerance=tolerance, max_iterations=max_iterations
    )
    return BradleyTerry(models=models, scores=scores, iterations=iterations, prior=prior)


@dataclass(frozen=True)
class RankedModel:
    """One model's place; `judgments` counts its rated judgments (both-bad ones excluded)."""

    model: str
    score: float
    rating: float
    rating_interval: Interval
    judgments: int


@dataclass(frozen=True)
class Ranking:
    """Models by descending score; `regularised_resamples` were fit with RESAMPLE_PRIOR (see module docstring)."""

    models: tuple[RankedModel, ...]
    baseline: str | None
    both_bad: int
    resamples: int
    regularised_resamples: int


def rank(
    judgments: Iterable[Judgment],
    *,
    baseline: str | None = None,
    prior: float = 0.0,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    tolerance: float = 1e-10,
) -> Ranking:
    """Bradley–Terry scores and Elo-scale ratings with bootstrap intervals over prompts (Chatbot Arena style).

    Each resample draws the prompts with replacement, refits Bradley–Terry (warm-started from the full fit) and
    anchors its ratings the same way (baseline at 1000, or their mean); the interval is the percentile interval of
    a model's rating over the resamples, so the baseline's own interval is [1000, 1000].
    """
    data = encode(judgments)
    fit = _fit_bradley_terry(data.credit_matrix(), data.models, prior, tolerance, MAX_ITERATIONS)
    anchor = None if baseline is None else _model_index(data.models, baseline)
    regularised = 0

    def resampled_ratings(multiplicity: np.ndarray) -> np.ndarray:
        nonlocal regularised
        credit = data.credit_matrix(multiplicity[data.prompt].astype(np.float64))
        if prior > 0:
            credit = _with_prior(credit, prior)
        elif not _identifiable(credit):
            regularised += 1
            credit = _with_prior(credit, RESAMPLE_PRIOR)
        scores, _ = _bradley_terry_mm(credit, fit.scores, tolerance=tolerance, max_iterations=MAX_ITERATIONS)
        return _ratings(scores, anchor)

    low, high = percentile_interval(
        bootstrap(resampled_ratings, data.n_prompts, resamples=resamples, seed=seed), confidence
    )
    ratings = _ratings(fit.scores, anchor)
    appearances = np.bincount(np.concatenate([data.first, data.second]), minlength=len(data.models))
    ranked = [
        RankedModel(
            model=model,
            score=float(fit.scores[i]),
            rating=float(ratings[i]),
            rating_interval=Interval(float(low[i]), float(high[i])),
            judgments=int(appearances[i]),
        )
        for i, model in enumerate(data.models)
    ]
    ranked.sort(key=lambda r: -r.score)
    return Ranking(
        models=tuple(ranked),
        baseline=baseline,
        both_bad=data.both_bad,
        resamples=resamples,
        regularised_resamples=regularised,
    )


# --- Rao–Kupper ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaoKupper:
    """Rao–Kupper strengths (summing to 1) and tie parameter θ ≥ 1:

    P(i beats j) = p_i / (p_i + θ p_j),   P(tie) = (θ² − 1) p_i p_j / ((p_i + θ p_j)(p_j + θ p_i)).
    """

    models: tuple[str, ...]
    scores: np.ndarray
    theta: float
    iterations: int


def rao_kupper(
    judgments: Iterable[Judgment], *, tolerance: float = 1e-10, max_iterations: int = MAX_ITERATIONS
) -> RaoKupper:
    """Maximum-likelihood Rao–Kupper fit, a Bradley–Terry model in which a tie is an outcome of its own.

    Hunter's (2004) MM cycle, with W_ij the wins of i over j, T_ij = T_ji the ties between them, A = W + T, and
    T the number of ties:

        p_i ← (Σ_j W_ij + T_ij) / Σ_j [A_ij / (p_i + θ p_j) + θ A_ji / (p_j + θ p_i)]
        θ   ← T / C + sqrt(1 + (T / C)²),   C = Σ_ij A_ij p_j / (p_i + θ p_j)

    until neither the scores nor θ move by `tolerance`. Without ties θ = 1 and the fit is Bradley–Terry on the wins.
    The estimate exists only when the *wins* alone connect every split of the models both ways (ties do not
    suffice, unlike in `bradley_terry`); otherwise RankingError.
    """
    data = encode(judgments)
    decisive = data.credit != 0.5
    wins = data.credit_matrix(decisive.astype(np.float64))
    ties = 2 * data.credit_matrix((~decisive).astype(np.float64))
    both = wins + ties
    if not decisive.any():
        raise RankingError("every rated judgment is a tie: the tie parameter θ has no finite estimate")
    _check_identifiable(wins, data.models, ties_count=False)
    n_ties = ties.sum() / 2
    got = both.sum(axis=1)
    scores, theta = np.full(len(data.models), 1 / len(data.models)), 1.5
    for iteration in range(1, max_iterations + 1):
        forward = scores[:, None] + theta * scores[None, :]  # p_i + θ p_j
        updated = got / (both / forward + theta * both.T / forward.T).sum(axis=1)
        updated /= updated.sum()
        ratio = n_ties / (both * updated[None, :] / (updated[:, None] + theta * updated[None, :])).sum()
        theta_updated = ratio + math.sqrt(1 + ratio**2)
        if np.max(np.abs(updated - scores)) < tolerance and abs(theta_updated - theta) < tolerance:
            return RaoKupper(models=data.models, scores=updated, theta=theta_updated, iterations=iteration)
        scores, theta = updated, theta_updated
    raise RankingError(f"Rao–Kupper did not converge to {tolerance} in {max_iterations} iterations")
