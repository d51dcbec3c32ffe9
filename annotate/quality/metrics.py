"""A campaign's quality report computed from compact judgment arrays: agreement, reviewers, biases, slices.

Pure numpy/scipy (no Django): ``annotate.quality.load`` reads the arrays and ``annotate.quality.store`` caches the
report.
Agreement is measured on comparisons (units) with reviewers as raters:

* outcome, nominal: a, b, tie, both_bad (escalations are not answers and count as missing);
* outcome, ordinal: the 7-point scale a-strong, a-clear, a-slight, tie, b-slight, b-clear, b-strong
  (both_bad, escalations and a/b without a strength are missing);
* Fleiss' kappa on the comparisons whose answered judgments number exactly the campaign's overlap;
* percent agreement: mean share of agreeing reviewer pairs per comparison;
* per rubric criterion: interval alpha on each reviewer's rating difference a − b.
"""

from __future__ import annotations

import numpy as np

from annotate.quality import agreement
from annotate.quality.arrays import SECONDS_PER_DAY, Coded, JudgmentArrays
from annotate.quality.codes import N_CATEGORIES, OUTCOME_A, OUTCOME_B, OUTCOME_BOTH_BAD, OUTCOME_TIE
from annotate.quality.reviewers import DEFAULT_TOO_FAST_MS, pairwise_kappas, reviewer_rows

DAILY_SPAN_DAYS = 62  # longer campaigns are sliced by week
MAX_SLICES = 30  # per locale list or tag key

HEADLINE_COLUMNS = ("metric", "value", "low", "high", "units")
CRITERION_COLUMNS = ("criterion", "alpha", "low", "high", "units")
SLICE_COLUMNS = ("slice", "judgments", "comparisons", "alpha", "percent_agreement", "a_share", "tie_share")
MODEL_COLUMNS = ("model", "judgments", "wins", "losses", "ties", "both_bad", "win_rate")
LENGTH_COLUMNS = ("longer_wins", "decided", "rate", "low", "high")


def nominal_values(outcome: np.ndarray) -> np.ndarray:
    """Outcome codes as floats for alpha, escalations as nan."""
    return np.where(outcome < N_CATEGORIES, outcome, np.nan).astype(float)


def ordinal_values(outcome: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Position on the 7-point scale: a-strong 0 … a-slight 2, tie 3, b-slight 4 … b-strong 6; else nan."""
    has_strength = strength >= 0
    scale = np.full(len(outcome), np.nan)
    scale[(outcome == OUTCOME_A) & has_strength] = 2 - strength[(outcome == OUTCOME_A) & has_strength]
    scale[(outcome == OUTCOME_B) & has_strength] = 4 + strength[(outcome == OUTCOME_B) & has_strength]
    scale[outcome == OUTCOME_TIE] = 3
    return scale


def outcome_counts(comparison: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """(comparisons, 4) counts of answered outcomes per comparison, for Fleiss' kappa and percent agreement."""
    answered = outcome < N_CATEGORIES
    units, unit_ids = agreement.dense_index(comparison[answered])
    n_units = len(unit_ids)
    return np.bincount(units * N_CATEGORIES + outcome[answered], minlength=n_units * N_CATEGORIES).reshape(
        n_units, N_CATEGORIES
    )


def _interval(low_high: tuple[float, float]) -> dict:
    return {"low": low_high[0], "high": low_high[1]}


def _alpha_row(name: str, units: np.ndarray, values: np.ndarray, level: str, n_resamples: int, seed: int) -> dict:
    index, _ = agreement.dense_index(units[~np.isnan(values)])
    estimate, low, high = agreement.krippendorff_alpha_long_with_ci(
        units, values, level, n_resamples=n_resamples, seed=seed
    )
    return {"metric": name, "value": estimate, "low": low, "high": high, "units": int((np.bincount(index) >= 2).sum())}


def _counts_row(name: str, table: np.ndarray, statistic: str, n_resamples: int, seed: int) -> dict:
    estimate = agreement.fleiss_kappa(table) if statistic == "fleiss_kappa" else agreement.percent_agreement(table)
    interval = agreement.bootstrap_counts_ci(table, statistic, n_resamples=n_resamples, seed=seed)
    return {"metric": name, "value": estimate, **_interval(interval), "units": len(table)}


def headline_rows(arrays: JudgmentArrays, *, overlap: int, n_resamples: int, seed: int) -> list[dict]:
    units = arrays.comparison
    counts = outcome_counts(arrays.comparison, arrays.outcome)
    complete = counts[counts.sum(axis=1) == overlap]
    pairable = counts[counts.sum(axis=1) >= 2]
    return [
        _alpha_row("Outcome alpha (nominal)", units, nominal_values(arrays.outcome), "nominal", n_resamples, seed),
        _alpha_row(
            "Outcome alpha (ordinal, 7-point)",
            units,
            ordinal_values(arrays.outcome, arrays.strength),
            "ordinal",
            n_resamples,
            seed,
        ),
        _counts_row(f"Fleiss' kappa ({overlap} reviewers)", complete, "fleiss_kappa", n_resamples, seed),
        _counts_row("Percent agreement", pairable, "percent_agreement", n_resamples, seed),
    ]


def criterion_rows(arrays: JudgmentArrays, *, n_resamples: int, seed: int) -> list[dict]:
    rows = []
    for criterion, difference in arrays.ratings.items():
        row = _alpha_row(criterion, arrays.comparison, difference, "interval", n_resamples, seed)
        rows.append({"criterion": criterion, "alpha": row["value"], **{k: row[k] for k in ("low", "high", "units")}})
    return rows


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    if trials == 0:
        return float("nan"), float("nan")
    share = successes / trials
    centre = (share + z**2 / (2 * trials)) / (1 + z**2 / trials)
    spread = z * np.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2)) / (1 + z**2 / trials)
    return float(centre - spread), float(centre + spread)


def length_bias(arrays: JudgmentArrays) -> dict:
    """How often the longer candidate wins a decided (a or b) judgment between candidates of different length."""
    if arrays.length_a is None or arrays.length_b is None:
        return {"longer_wins": 0, "decided": 0, "rate": float("nan"), "low": float("nan"), "high": float("nan")}
    differ = arrays.length_a != arrays.length_b
    a_longer = arrays.length_a > arrays.length_b
    decided = differ & ((arrays.outcome == OUTCOME_A) | (arrays.outcome == OUTCOME_B))
    longer_wins = decided & ((arrays.outcome == OUTCOME_A) == a_longer)
    wins, trials = int(longer_wins.sum()), int(decided.sum())
    rate = wins / trials if trials else float("nan")
    return {"longer_wins": wins, "decided": trials, "rate": rate, **_interval(wilson_interval(wins, trials))}


def model_rows(arrays: JudgmentArrays) -> list[dict]:
    """Per model name+version: answered judgments it took part in, wins, losses, ties, both bad, wins/(wins+losses)."""
    if arrays.model_a is None or arrays.model_b is None:
        return []
    labels = arrays.model_labels
    n = len(labels)
    answered = arrays.outcome < N_CATEGORIES
    outcome = arrays.outcome

    def tally(codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask & (codes >= 0)], minlength=n)

    side_a, side_b = arrays.model_a, arrays.model_b
    won_a, won_b = outcome == OUTCOME_A, outcome == OUTCOME_B
    wins = tally(side_a, won_a) + tally(side_b, won_b)
    losses = tally(side_a, won_b) + tally(side_b, won_a)
    ties = tally(side_a, outcome == OUTCOME_TIE) + tally(side_b, outcome == OUTCOME_TIE)
    both_bad = tally(side_a, outcome == OUTCOME_BOTH_BAD) + tally(side_b, outcome == OUTCOME_BOTH_BAD)
    judgments = tally(side_a, answered) + tally(side_b, answered)
    rows = []
    for i in np.argsort(-judgments, kind="stable"):
        if judgments[i] == 0:
            continue
        decided = wins[i] + losses[i]
        rows.append(
            {
                "model": labels[i],
                "judgments": int(judgments[i]),
                "wins": int(wins[i]),
                "losses": int(losses[i]),
                "ties": int(ties[i]),
                "both_bad": int(both_bad[i]),
                "win_rate": float(wins[i] / decided) if decided else float("nan"),
            }
        )
    return rows


def _slice_row(name: str, arrays: JudgmentArrays, mask: np.ndarray) -> dict:
    comparison, outcome = arrays.comparison[mask], arrays.outcome[mask]
    counts = outcome_counts(comparison, outcome)
    pairable = counts[counts.sum(axis=1) >= 2]
    answered = outcome < N_CATEGORIES
    n_answered = int(answered.sum())
    return {
        "slice": name,
        "judgments": int(mask.sum()),
        "comparisons": len(agreement.dense_index(comparison)[1]),
        "alpha": agreement.krippendorff_alpha_long(comparison, nominal_values(outcome), "nominal"),
        "percent_agreement": agreement.percent_agreement(pairable),
        "a_share": float((outcome == OUTCOME_A).sum() / n_answered) if n_answered else float("nan"),
        "tie_share": float((outcome == OUTCOME_TIE).sum() / n_answered) if n_answered else float("nan"),
    }


def coded_slices(arrays: JudgmentArrays, coded: Coded, prefix: str = "") -> list[dict]:
    """One row per value, most judged first; only the MAX_SLICES most frequent values (ids in tags are not slices)."""
    frequency = np.bincount(coded.codes[coded.codes >= 0], minlength=len(coded.labels))
    order = np.argsort(-frequency, kind="stable")[:MAX_SLICES]
    return [
        _slice_row(prefix + coded.labels[code], arrays, coded.codes == code) for code in order if frequency[code] > 0
    ]


def time_buckets(arrays: JudgmentArrays) -> tuple[str, np.ndarray]:
    """Each judgment's bucket as an epoch day: the day (or Monday of the week) its comparison was last judged (UTC).

    Bucketing whole comparisons keeps every reviewer pair of a comparison inside one bucket.
    """
    days = np.floor(arrays.created_at / SECONDS_PER_DAY).astype(np.int64)
    units, unit_ids = agreement.dense_index(arrays.comparison)
    last_day = np.full(len(unit_ids), np.iinfo(np.int64).min)
    np.maximum.at(last_day, units, days)
    unit_day = last_day[units]
    if len(days) and days.max() - days.min() > DAILY_SPAN_DAYS:
        # 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Mondays.
        return "week", (unit_day + 3) // 7 * 7 - 3
    return "day", unit_day


def time_slices(arrays: JudgmentArrays) -> tuple[str, list[dict]]:
    unit, bucket = time_buckets(arrays)
    rows = []
    for day in np.unique(bucket):
        label = str(np.datetime64(int(day), "D"))
        rows.append(_slice_row(label, arrays, bucket == day))
    return unit, rows


def compute_quality(
    arrays: JudgmentArrays,
    *,
    overlap: int,
    n_resamples: int = 1000,
    seed: int = 0,
    too_fast_ms: float = DEFAULT_TOO_FAST_MS,
) -> dict:
    """The whole dashboard as plain data: lists of row dicts whose keys are the *_COLUMNS tuples."""
    if len(arrays) == 0:
        return {"judgments": 0, "comparisons": 0, "reviewers": 0, "empty": True}
    time_unit, time_rows = time_slices(arrays)
    tag_rows = [row for key, coded in sorted(arrays.tags.items()) for row in coded_slices(arrays, coded, f"{key}=")]
    return {
        "empty": False,
        "judgments": len(arrays),
        "comparisons": len(agreement.dense_index(arrays.comparison)[1]),
        "reviewers": len(agreement.dense_index(arrays.reviewer)[1]),
        "headline": headline_rows(arrays, overlap=overlap, n_resamples=n_resamples, seed=seed),
        "criteria": criterion_rows(arrays, n_resamples=n_resamples, seed=seed),
        "reviewer_rows": reviewer_rows(arrays, too_fast_ms=too_fast_ms),
        "kappas": pairwise_kappas(arrays),
        "length_bias": length_bias(arrays),
        "models": model_rows(arrays),
        "locales": coded_slices(arrays, arrays.locale),
        "tags": tag_rows,
        "time_unit": time_unit,
        "over_time": time_rows,
    }
