"""How far each AI judge agrees with the human majority, as pure numpy on the quality arrays (no Django).

The human majority of a pair is its unique plurality among the answered outcomes (a, b, tie, both bad; escalations
are not answers); pairs without one (no human answer, or a tie in the vote) are left out. Each judge's answered
judgments on the remaining pairs give: accuracy (share equal to the majority), Cohen's kappa against it, the judge's
tie share, and the judge × human confusion table (rows: judge, columns: majority, in ``codes.ANSWERS`` order).

Position consistency is read over all the judge's judgments, whether or not the pair has a human majority: the share
of those that record ``order_consistent`` (the judge saw the pair in both orders) whose two verdicts agreed, and the
number that flipped; nan when none records it.
"""

from __future__ import annotations

import numpy as np

from annotate.quality.agreement import cohen_kappa
from annotate.quality.arrays import JudgmentArrays
from annotate.quality.codes import N_CATEGORIES, OUTCOME_TIE

JUDGE_COLUMNS = (
    "judge",
    "pairs",
    "accuracy",
    "kappa",
    "tie_share",
    "position_consistency",
    "order_checked",
    "order_flips",
)
NO_MAJORITY = -1


def human_majority(human: JudgmentArrays) -> tuple[np.ndarray, np.ndarray]:
    """(comparison ids, majority outcome code or NO_MAJORITY), comparison ids sorted."""
    answered = human.outcome < N_CATEGORIES
    comparisons, index = np.unique(human.comparison[answered], return_inverse=True)
    counts = np.zeros((len(comparisons), N_CATEGORIES), dtype=np.int64)
    np.add.at(counts, (index, human.outcome[answered]), 1)
    if not len(comparisons):
        return comparisons, np.zeros(0, dtype=np.int64)
    top = counts.max(axis=1)
    unique_top = (counts == top[:, None]).sum(axis=1) == 1
    return comparisons, np.where(unique_top, counts.argmax(axis=1), NO_MAJORITY)


def order_consistency(consistent: np.ndarray) -> tuple[float, int, int]:
    """(share of 1 among the non-nan values, how many are not nan, how many are 0): nan share when all are nan."""
    checked = consistent[~np.isnan(consistent)]
    flips = int((checked == 0).sum())
    share = float(np.mean(checked == 1)) if len(checked) else float("nan")
    return share, int(len(checked)), flips


def judge_rows(human: JudgmentArrays, judges: JudgmentArrays) -> list[dict]:
    """One row per judge (JUDGE_COLUMNS plus `confusion`), judges in id order."""
    comparisons, majority = human_majority(human)
    rows = []
    for judge in np.unique(judges.reviewer):
        everything = judges.reviewer == judge
        consistent = judges.order_consistent if judges.order_consistent is not None else np.full(len(judges), np.nan)
        consistency, checked, flips = order_consistency(consistent[everything])
        mine = everything & (judges.outcome < N_CATEGORIES)
        ids, said = judges.comparison[mine], judges.outcome[mine]
        if len(comparisons):
            position = np.clip(np.searchsorted(comparisons, ids), 0, len(comparisons) - 1)
            truth = np.where(comparisons[position] == ids, majority[position], NO_MAJORITY)
        else:
            truth = np.full(len(ids), NO_MAJORITY)
        keep = truth != NO_MAJORITY
        said, truth = said[keep], truth[keep]
        confusion = np.zeros((N_CATEGORIES, N_CATEGORIES), dtype=np.int64)
        np.add.at(confusion, (said, truth), 1)
        rows.append(
            {
                "judge": int(judge),
                "pairs": int(len(said)),
                "accuracy": float(np.mean(said == truth)) if len(said) else float("nan"),
                "kappa": cohen_kappa(said, truth),
                "tie_share": float(np.mean(said == OUTCOME_TIE)) if len(said) else float("nan"),
                "confusion": confusion.tolist(),
                "position_consistency": consistency,
                "order_checked": checked,
                "order_flips": flips,
            }
        )
    return rows
