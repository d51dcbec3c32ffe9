"""A campaign's judgments as compact numpy arrays: what ``load`` produces and every pure metric reads.

Pure (no Django). Kept apart from the metrics so that ``metrics``, ``reviewers`` and ``judges`` all import it and
none of them imports another for the type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Coded:
    """Integer codes per judgment into ``labels``; -1 means absent."""

    codes: np.ndarray
    labels: list[str]


@dataclass(frozen=True)
class JudgmentArrays:
    """One entry per judgment. Outcomes and strengths are ``annotate.quality.codes`` codes (strength -1 blank),
    times in ms, ``created_at`` in UTC seconds since the epoch, ``gold_correct`` 1/0/nan, ``ratings`` a − b per
    criterion, ``model_a``/``model_b`` codes into ``model_labels`` ("name version"), ``order_consistent`` 1/0/nan
    (AI judges that saw the pair in both orders)."""

    reviewer: np.ndarray
    comparison: np.ndarray
    outcome: np.ndarray
    strength: np.ndarray
    a_on_left: np.ndarray
    time_ms: np.ndarray
    created_at: np.ndarray
    gold_correct: np.ndarray
    locale: Coded
    tags: dict[str, Coded] = field(default_factory=dict)
    length_a: np.ndarray | None = None
    length_b: np.ndarray | None = None
    model_a: np.ndarray | None = None
    model_b: np.ndarray | None = None
    model_labels: list[str] = field(default_factory=list)
    ratings: dict[str, np.ndarray] = field(default_factory=dict)
    order_consistent: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.outcome)
