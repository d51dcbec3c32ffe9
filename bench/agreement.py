"""Krippendorff's alpha: annotate.quality.agreement against the `krippendorff` package, and the dashboard's cold compute.

    .venv/bin/python bench/agreement.py [--units 200000] [--raters 5] [--missing 0.1]

Synthetic campaign: each pair has a true 7-point answer; each of 5 reviewers reports it with probability 0.7,
otherwise a random point; 10% of (pair, reviewer) cells are missing. Prints times side by side and their ratio,
then the time `compute_quality` (the whole dashboard, 1,000 bootstrap resamples per interval) takes on arrays of
the same size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotate.quality.agreement import bootstrap_alpha_ci, krippendorff_alpha  # noqa: E402
from annotate.quality.arrays import Coded, JudgmentArrays  # noqa: E402
from annotate.quality.metrics import compute_quality  # noqa: E402


def synthetic_scale(units: int, raters: int, missing: float, rng: np.random.Generator) -> np.ndarray:
    """(raters, units) answers on the 7-point scale 0..6 with nan for missing."""
    truth = rng.integers(0, 7, units)
    noise = rng.integers(0, 7, (raters, units))
    data = np.where(rng.random((raters, units)) < 0.7, truth, noise).astype(float)
    data[rng.random(data.shape) < missing] = np.nan
    return data


def synthetic_arrays(scale: np.ndarray, rng: np.random.Generator, n_reviewers: int = 400) -> JudgmentArrays:
    """Dashboard input for the same answers: slots map to distinct reviewers drawn per pair."""
    raters, units = scale.shape
    slot, comparison = np.nonzero(~np.isnan(scale))
    point = scale[slot, comparison].astype(np.int64)
    reviewer = (rng.integers(0, n_reviewers, units)[comparison] + slot * 61) % n_reviewers
    outcome = np.select([point < 3, point == 3, point > 3], [0, 2, 1])
    outcome = np.where(rng.random(len(point)) < 0.05, 3, outcome)
    strength = np.select([point < 3, point > 3], [2 - point, point - 4], -1)
    n = len(point)
    start = 1_767_225_600  # 2026-01-01
    model_labels = ["atlas v1", "atlas v2", "borealis v1", "cirrus v3"]
    return JudgmentArrays(
        reviewer=reviewer,
        comparison=comparison,
        outcome=outcome,
        strength=strength,
        a_on_left=rng.random(n) < 0.5,
        time_ms=rng.gamma(4.0, 10_000.0, n),
        created_at=start + comparison / units * 90 * 86_400 + rng.random(n) * 3_600,
        gold_correct=np.where(rng.random(n) < 0.05, rng.random(n) < 0.8, np.nan),
        locale=Coded(rng.integers(0, 3, units)[comparison], ["en-US", "ja-JP", "de-DE"]),
        tags={"scenario": Coded(rng.integers(0, 5, units)[comparison], ["chat", "code", "math", "safety", "writing"])},
        length_a=rng.integers(50, 2_000, units)[comparison],
        length_b=rng.integers(50, 2_000, units)[comparison],
        model_a=rng.integers(0, 4, units)[comparison],
        model_b=rng.integers(0, 4, units)[comparison],
        model_labels=model_labels,
        ratings={
            "helpfulness": np.clip(3 - point + rng.integers(-1, 2, n), -4, 4).astype(float),
            "harmlessness": rng.integers(-2, 3, n).astype(float),
        },
    )


def timed(function, *args, repeat: int = 5, **kwargs) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--raters", type=int, default=5)
    parser.add_argument("--missing", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()

    import krippendorff

    rng = np.random.default_rng(options.seed)
    scale = synthetic_scale(options.units, options.raters, options.missing, rng)
    judgments = int((~np.isnan(scale)).sum())
    print(
        f"{options.units:,} pairs × {options.raters} reviewers, {options.missing:.0%} missing: {judgments:,} judgments"
    )
    print(f"{'level':<10}{'ours s':>10}{'krippendorff s':>16}{'ratio':>8}{'|diff|':>10}{'bootstrap×1000 s':>18}")
    for level in ("nominal", "ordinal"):
        ours_s, ours = timed(krippendorff_alpha, scale, level)
        peer_s, peer = timed(krippendorff.alpha, reliability_data=scale, level_of_measurement=level)
        boot_s, _ = timed(bootstrap_alpha_ci, scale, level, repeat=1)
        print(
            f"{level:<10}{ours_s:>10.3f}{peer_s:>16.3f}{peer_s / ours_s:>7.1f}×{abs(ours - peer):>10.1e}{boot_s:>18.3f}"
        )

    arrays = synthetic_arrays(scale, rng)
    compute_s, report = timed(compute_quality, arrays, overlap=options.raters, repeat=1)
    print(
        f"dashboard compute_quality on {len(arrays):,} judgments, {report['reviewers']} reviewers, "
        f"{len(report['kappas']):,} kappa pairs: {compute_s:.2f} s"
    )


if __name__ == "__main__":
    main()
