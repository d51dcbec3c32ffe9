"""Pairwise judgments of models, as the evaluation statistics read them, and the bootstrap over prompts they share.

Pure numpy (no Django): judgments come in as `Judgment` dataclasses; `encode` turns them into arrays for
`win_rates` and `rankings`, and `bootstrap` with `percentile_interval` gives both their intervals.

Conventions (checked against evalica, the LLMFAO reference scores and the AlpacaEval leaderboard in the tests):

- A judgment credits model_a with c = 1 (a better), 0 (b better) or 1/2 (tie), and model_b with 1 - c — ties count
  half a win to each side, as in AlpacaEval and Chatbot Arena. `both_bad` says neither answer is acceptable, not
  which is better: it is counted and reported apart and enters no rate and no fit. (Chatbot Arena folds "tie
  (bothbad)" into ties; we keep it out so the win rate and the ranking read the same judgments.)
- Intervals are percentile bootstrap intervals over *prompts*: all judgments of one prompt are resampled together,
  since several reviewers judging the same pair, or several models answering the same prompt, are not independent.
  Every bootstrap takes a seed and draws from its own `numpy.random.Generator`, so the same seed gives the same
  interval.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class Outcome(StrEnum):
    """Which answer a judgment prefers."""

    A = "a"
    B = "b"
    TIE = "tie"
    BOTH_BAD = "both_bad"


# Credit to model_a per outcome; model_b gets 1 - credit. The one place outcomes become numbers.
_CREDIT_TO_A = {Outcome.A: 1.0, Outcome.B: 0.0, Outcome.TIE: 0.5}


@dataclass(frozen=True, slots=True)
class Judgment:
    """One comparison of two models' answers to one prompt; `outcome` may be given as its string value ("a")."""

    prompt_id: Hashable
    model_a: str
    model_b: str
    outcome: Outcome

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        if self.model_a == self.model_b:
            raise ValueError(f"prompt {self.prompt_id!r}: model_a and model_b are both {self.model_a!r}")


@dataclass(frozen=True)
class Interval:
    """A confidence interval (95% unless asked otherwise): bootstrap percentiles, or Wilson's where those collapse."""

    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class Encoded:
    """Judgments as arrays: model indices, credit to the first model, prompt indices (both-bad ones dropped)."""

    models: tuple[str, ...]
    first: np.ndarray
    second: np.ndarray
    credit: np.ndarray
    prompt: np.ndarray
    n_prompts: int
    both_bad: int

    def credit_matrix(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(K, K) credit W[i, j] that model i got against model j; the judgments weighted by `weights`."""
        k = len(self.models)
        w = np.ones(len(self.credit)) if weights is None else weights
        return (
            np.bincount(self.first * k + self.second, w * self.credit, minlength=k * k)
            + np.bincount(self.second * k + self.first, w * (1 - self.credit), minlength=k * k)
        ).reshape(k, k)


def encode(judgments: Iterable[Judgment]) -> Encoded:
    """Judgments as arrays: models numbered in name order, prompts in order of first appearance."""
    judgments = list(judgments)
    models = tuple(sorted({j.model_a for j in judgments} | {j.model_b for j in judgments}))
    index = {model: i for i, model in enumerate(models)}
    rated = [j for j in judgments if j.outcome != Outcome.BOTH_BAD]
    prompts: dict[Hashable, int] = {}
    return Encoded(
        models=models,
        first=np.array([index[j.model_a] for j in rated], dtype=np.int64),
        second=np.array([index[j.model_b] for j in rated], dtype=np.int64),
        credit=np.array([_CREDIT_TO_A[j.outcome] for j in rated], dtype=np.float64),
        prompt=np.array([prompts.setdefault(j.prompt_id, len(prompts)) for j in rated], dtype=np.int64),
        n_prompts=len(prompts),
        both_bad=len(judgments) - len(rated),
    )


def bootstrap(
    statistic: Callable[[np.ndarray], np.ndarray], n_prompts: int, *, resamples: int, seed: int
) -> np.ndarray:
    """(resamples, …) statistic of `resamples` draws of prompt multiplicities (prompts drawn with replacement)."""
    rng = np.random.default_rng(seed)
    return np.array(
        [statistic(np.bincount(rng.integers(0, n_prompts, n_prompts), minlength=n_prompts)) for _ in range(resamples)]
    )


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper `confidence` percentiles of `samples` along its first axis, nan resamples left out."""
    tail = 50 * (1 - confidence)
    low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    return low, high
