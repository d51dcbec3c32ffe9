"""Win rates of models from pairwise judgments: head to head with a bootstrap or Wilson interval, all pairs at once,
and how many more judgments would separate two overlapping intervals.

Pure numpy (no Django). Ties count half a win and both-bad judgments stay out of every rate (`pairwise` gives the
conventions); the intervals are percentile bootstrap intervals over prompts, with Wilson's standing in where every
judgment agreed and the percentiles collapse to a point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from evaluation.pairwise import Interval, Judgment, bootstrap, encode, percentile_interval


@dataclass(frozen=True)
class WinRate:
    """Head-to-head result of `model` against `opponent`; `rate` is None when they never met (ties excluded)."""

    model: str
    opponent: str
    wins: int
    losses: int
    ties: int
    both_bad: int
    rate: float | None
    interval: Interval | None

    @property
    def judgments(self) -> int:
        return self.wins + self.losses + self.ties + self.both_bad


def win_rate(
    judgments: Iterable[Judgment],
    *,
    model: str,
    opponent: str,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> WinRate:
    """Win rate of `model` over `opponent`, ties counting half, with a bootstrap interval over prompts.

        rate = (wins + ties / 2) / (wins + losses + ties)

    Only judgments of this pair count; both-bad ones are reported apart and stay out of the rate. The interval
    resamples the pair's prompts; a resample without any rated judgment (possible with very few prompts) is left
    out of the percentiles. When every rated judgment gave the same credit (4 losses of 4, say) every resample
    does too and the percentiles collapse to a point, claiming certainty that few judgments cannot give; the Wilson
    score interval of those judgments stands in then (0 of 4 → 0% to 49%).
    """
    if model == opponent:
        raise ValueError(f"opponent: {opponent!r} is the model itself")
    pair = {model, opponent}
    both = [j for j in judgments if {j.model_a, j.model_b} == pair]
    data = encode(both)
    if not len(data.credit):
        return WinRate(model, opponent, 0, 0, 0, data.both_bad, None, None)
    # Credit is to each judgment's model_a; turn it into credit to `model` whichever side it was on.
    mine = np.where(data.first == data.models.index(model), data.credit, 1 - data.credit)
    wins, ties = int(np.sum(mine == 1)), int(np.sum(mine == 0.5))
    credit = np.bincount(data.prompt, mine, minlength=data.n_prompts)
    count = np.bincount(data.prompt, minlength=data.n_prompts).astype(np.float64)

    def resampled_rate(multiplicity: np.ndarray) -> np.ndarray:
        total = multiplicity @ count
        return np.array(multiplicity @ credit / total if total else np.nan)

    low, high = percentile_interval(
        bootstrap(resampled_rate, data.n_prompts, resamples=resamples, seed=seed), confidence
    )
    if np.all(mine == mine[0]):
        low, high = wilson_interval(float(mine[0]), len(mine), confidence)
    return WinRate(
        model=model,
        opponent=opponent,
        wins=wins,
        losses=len(mine) - wins - ties,
        ties=ties,
        both_bad=data.both_bad,
        rate=float(mine.sum() / len(mine)),
        interval=Interval(float(low), float(high)),
    )


def wilson_interval(rate: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion `rate` observed over `n` trials (Wilson 1927):

    (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n),   z the normal quantile of the confidence
    """
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre = rate + z * z / (2 * n)
    spread = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass(frozen=True)
class WinRateMatrix:
    """rates[i, j]: win rate of models[i] over models[j] (ties half, both-bad out); nan where they never met."""

    models: tuple[str, ...]
    rates: np.ndarray
    counts: np.ndarray


def win_rate_matrix(judgments: Iterable[Judgment]) -> WinRateMatrix:
    """Every head-to-head win rate at once: rates = W / (W + Wᵀ), W[i, j] the credit of i against j."""
    data = encode(judgments)
    credit = data.credit_matrix()
    counts = credit + credit.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(counts > 0, credit / counts, np.nan)
    return WinRateMatrix(models=data.models, rates=rates, counts=counts)


def judgments_to_separate(
    *, estimate_a: float, interval_a: Interval, estimate_b: float, interval_b: Interval, judgments: int
) -> int | None:
    """How many judgments beyond `judgments` would make two overlapping intervals stop overlapping.

    A rough planning figure, not a power analysis: it assumes the estimates stay where they are and each interval
    shrinks like 1 / sqrt(n), the new judgments being spread like the old ones. With h_a, h_b the half-widths that
    face each other (the higher estimate's lower half, the lower estimate's upper half) and gap = |a − b|:

        (h_a + h_b) · sqrt(n / n') ≤ gap   ⇔   n' ≥ n · ((h_a + h_b) / gap)²

    Returns 0 when the intervals are already apart and None when the estimates are equal (no n separates them).
    For a win rate against parity pass estimate_b = 0.5 and interval_b = Interval(0.5, 0.5).
    """
    (high, high_interval), (low, low_interval) = sorted(
        [(estimate_a, interval_a), (estimate_b, interval_b)], key=lambda pair: -pair[0]
    )
    if high_interval.low > low_interval.high:
        return 0
    gap = high - low
    if gap <= 0:
        return None
    facing = (high - high_interval.low) + (low_interval.high - low)
    return max(0, math.ceil(judgments * (facing / gap) ** 2) - judgments)
