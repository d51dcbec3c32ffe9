"""Per-reviewer quality figures and reviewer × reviewer Cohen's kappa, from compact judgment arrays.

Pure numpy/scipy (no Django), fed by ``annotate.quality.arrays.JudgmentArrays``. Every figure is vectorised over
judgments so a campaign of a million judgments takes well under a second.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from annotate.quality.agreement import dense_index
from annotate.quality.arrays import JudgmentArrays
from annotate.quality.codes import (
    N_CATEGORIES,
    OUTCOME_A,
    OUTCOME_B,
    OUTCOME_BOTH_BAD,
    OUTCOME_ESCALATE,
    OUTCOME_TIE,
)

MIN_SHARED_PAIRS = 20  # Cohen's kappa is shown only for reviewer pairs that judged at least this many pairs together
MIN_JUDGMENTS_FOR_FLAGS = 10  # below this a reviewer's figures are too noisy to flag
TOO_FAST_RATIO = 0.4  # flagged when the median time is under 40% of the campaign's median time per judgment
# ... or under an absolute floor whatever the others do (settings VERDICT_TOO_FAST_MS, passed in by the store).
DEFAULT_TOO_FAST_MS = 3000
LOW_AGREEMENT_GAP = 0.2  # flagged when majority agreement is 20 points under the campaign's
POSITION_BIAS_P = 0.01  # flagged when left picks differ from 50% at p < 0.01 (two-sided binomial test)

REVIEWER_COLUMNS = (
    "reviewer",
    "judgments",
    "median_seconds",
    "majority_agreement",
    "majority_judgments",
    "gold_accuracy",
    "gold_judgments",
    "left_share",
    "left_p_value",
    "tie_share",
    "both_bad_share",
    "escalate_share",
    "too_fast",
    "low_agreement",
    "position_bias",
)
KAPPA_COLUMNS = ("reviewer_a", "reviewer_b", "shared", "kappa")


def _group_medians(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of non-negative integer ``values`` per group index (one int64 sort on group << 32 | value)."""
    clipped = np.clip(np.asarray(values), 0, 2**32 - 1).astype(np.int64)
    order = np.argsort((groups.astype(np.int64) << 32) | clipped)
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    sorted_values = clipped[order].astype(float)
    medians = np.full(n_groups, np.nan)
    has = sizes > 0
    low = sorted_values[(starts + (sizes - 1) // 2)[has]]
    high = sorted_values[(starts + sizes // 2)[has]]
    medians[has] = (low + high) / 2.0
    return medians


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def leave_one_out_majority(units: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """For each judgment, the strict plurality of the *other* judgments on its unit, or -1 when there is none.

    ``units`` are dense unit indices and ``categories`` outcome codes in 0..3 (escalations removed beforehand).
    """
    n_units = int(units.max()) + 1 if len(units) else 0
    cells = np.bincount(units * N_CATEGORIES + categories, minlength=n_units * N_CATEGORIES)
    others = cells.reshape(n_units, N_CATEGORIES)[units]
    others[np.arange(len(units)), categories] -= 1
    top = others.max(axis=1, keepdims=True)
    unique_top = ((others == top).sum(axis=1) == 1) & (top[:, 0] > 0)
    return np.where(unique_top, others.argmax(axis=1), -1)


def two_sided_binomial_p(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Two-sided binomial test against p = 0.5 (equal to scipy's ``binomtest`` for this symmetric case)."""
    with np.errstate(invalid="ignore"):
        tail = np.minimum(stats.binom.cdf(successes, trials, 0.5), stats.binom.sf(successes - 1, trials, 0.5))
    return np.where(trials > 0, np.minimum(1.0, 2.0 * tail), np.nan)


def reviewer_rows(arrays: JudgmentArrays, *, too_fast_ms: float = DEFAULT_TOO_FAST_MS) -> list[dict]:
    """One row per reviewer (REVIEWER_COLUMNS), ordered by reviewer id.

    Too fast: at least MIN_JUDGMENTS_FOR_FLAGS judgments and a median time under TOO_FAST_RATIO of the campaign's
    median, or under ``too_fast_ms`` (0 turns the floor off)."""
    reviewer, reviewer_ids = dense_index(arrays.reviewer)
    n = len(reviewer_ids)
    outcome = arrays.outcome
    judgments = np.bincount(reviewer, minlength=n)

    def per_reviewer(mask: np.ndarray) -> np.ndarray:
        return np.bincount(reviewer[mask], minlength=n).astype(float)

    median_seconds = _group_medians(reviewer, arrays.time_ms, n) / 1000.0

    answered = outcome < N_CATEGORIES
    units, _ = dense_index(arrays.comparison[answered])
    majority = leave_one_out_majority(units, outcome[answered])
    with_majority = np.zeros(len(outcome), dtype=bool)
    agrees = np.zeros(len(outcome), dtype=bool)
    with_majority[answered] = majority >= 0
    agrees[answered] = majority == outcome[answered]
    majority_judgments = per_reviewer(with_majority)
    majority_agreement = _ratio(per_reviewer(agrees), majority_judgments)
    campaign_agreement = agrees.sum() / with_majority.sum() if with_majority.any() else np.nan

    gold = ~np.isnan(arrays.gold_correct)
    gold_judgments = per_reviewer(gold)
    gold_accuracy = _ratio(per_reviewer(gold & (arrays.gold_correct == 1)), gold_judgments)

    decided = (outcome == OUTCOME_A) | (outcome == OUTCOME_B)
    left_pick = ((outcome == OUTCOME_A) & arrays.a_on_left) | ((outcome == OUTCOME_B) & ~arrays.a_on_left)
    decided_counts = per_reviewer(decided)
    left_counts = per_reviewer(left_pick)
    left_share = _ratio(left_counts, decided_counts)
    left_p = two_sided_binomial_p(left_counts, decided_counts)

    campaign_median = float(np.median(arrays.time_ms)) / 1000.0 if len(outcome) else np.nan
    enough = judgments >= MIN_JUDGMENTS_FOR_FLAGS
    too_fast = enough & ((median_seconds < TOO_FAST_RATIO * campaign_median) | (median_seconds * 1000.0 < too_fast_ms))
    low_agreement = (majority_judgments >= MIN_JUDGMENTS_FOR_FLAGS) & (
        majority_agreement < campaign_agreement - LOW_AGREEMENT_GAP
    )
    position_bias = left_p < POSITION_BIAS_P

    columns = {
        "reviewer": reviewer_ids,
        "judgments": judgments,
        "median_seconds": median_seconds,
        "majority_agreement": majority_agreement,
        "majority_judgments": majority_judgments.astype(int),
        "gold_accuracy": gold_accuracy,
        "gold_judgments": gold_judgments.astype(int),
        "left_share": left_share,
        "left_p_value": left_p,
        "tie_share": _ratio(per_reviewer(outcome == OUTCOME_TIE), judgments),
        "both_bad_share": _ratio(per_reviewer(outcome == OUTCOME_BOTH_BAD), judgments),
        "escalate_share": _ratio(per_reviewer(outcome == OUTCOME_ESCALATE), judgments),
        "too_fast": too_fast,
        "low_agreement": low_agreement,
        "position_bias": position_bias,
    }
    return [{name: values[i].item() for name, values in columns.items()} for i in range(n)]


def within_unit_pairs(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i < j in sorted order, of rows sharing a unit; ``units`` must be sorted."""
    n = len(units)
    ends = np.searchsorted(units, units, side="right")
    first, second = [], []
    candidates = np.arange(n)
    offset = 1
    # One pass per offset, over the rows whose unit still has a row that far ahead: the work is the pair count.
    while len(candidates):
        candidates = candidates[candidates + offset < ends[candidates]]
        first.append(candidates)
        second.append(candidates + offset)
        offset += 1
    return np.concatenate(first), np.concatenate(second)


def pairwise_kappas(arrays: JudgmentArrays, min_shared: int = MIN_SHARED_PAIRS) -> list[dict]:
    """Cohen's kappa for every reviewer pair sharing at least ``min_shared`` answered pairs (KAPPA_COLUMNS)."""
    answered = arrays.outcome < N_CATEGORIES
    comparison, _ = dense_index(arrays.comparison[answered])
    reviewer, reviewer_ids = dense_index(arrays.reviewer[answered])
    category = arrays.outcome[answered].astype(np.int64)
    n_reviewers = len(reviewer_ids)
    order = np.argsort(comparison * n_reviewers + reviewer, kind="stable")
    comparison, reviewer, category = comparison[order], reviewer[order], category[order]
    first, second = within_unit_pairs(comparison)
    distinct = reviewer[first] != reviewer[second]
    first, second = first[distinct], second[distinct]
    if len(first) == 0:
        return []
    # Rows inside a unit are sorted by reviewer, so reviewer[first] < reviewer[second]: each pair is oriented.
    pair_key = reviewer[first].astype(np.int64) * n_reviewers + reviewer[second]
    group, pair_ids = dense_index(pair_key)
    cells = group * N_CATEGORIES**2 + category[first] * N_CATEGORIES + category[second]
    tables = np.bincount(cells, minlength=len(pair_ids) * N_CATEGORIES**2)
    tables = tables.reshape(len(pair_ids), N_CATEGORIES, N_CATEGORIES).astype(float)
    shared = tables.sum(axis=(1, 2))
    keep = shared >= min_shared
    tables, shared, pair_ids = tables[keep], shared[keep], pair_ids[keep]
    observed = np.trace(tables, axis1=1, axis2=2) / shared
    chance = (tables.sum(axis=2) * tables.sum(axis=1)).sum(axis=1) / shared**2
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(chance < 1.0, 1.0 - (1.0 - observed) / (1.0 - chance), np.nan)
    first_ids, second_ids = reviewer_ids[pair_ids // n_reviewers], reviewer_ids[pair_ids % n_reviewers]
    return [
        {"reviewer_a": int(a), "reviewer_b": int(b), "shared": int(n), "kappa": float(k)}
        for a, b, n, k in zip(first_ids, second_ids, shared, kappa, strict=True)
    ]
