"""Bradley–Terry and its bootstrap: evaluation.rankings against evalica on the LLMFAO crowd votes.

    .venv/bin/python bench/rankings.py [--resamples 1000] [--repeat 5]

8,931 crowd votes on 59 models (39% ties, counting half a win to each side). Prints, side by side: one
Bradley–Terry fit (ours: MM to 1e-10 in numpy; evalica: its Rust solver, at its default tolerance 1e-6 and at
1e-10), the largest score difference to the reference column and to evalica, and a 1,000-resample bootstrap
(ours: over prompts — LLMFAO has only 13, so its intervals are wide — with ratings refit per resample;
evalica.bootstrap: over single votes, percentile method). The data lives beside the repository in
../shared/data/real-preferences/llmfao/.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from pathlib import Path

import evalica
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluation.pairwise import Judgment  # noqa: E402
from evaluation.rankings import bradley_terry, rank  # noqa: E402

LLMFAO = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-preferences" / "llmfao"
OUTCOMES = {"left": "a", "right": "b", "tie": "tie"}
WINNERS = {"left": evalica.Winner.X, "right": evalica.Winner.Y, "tie": evalica.Winner.Draw}


def timed(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of `repeat` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not LLMFAO.exists():
        sys.exit(f"LLMFAO data not found at {LLMFAO}")

    with (LLMFAO / "crowd-comparisons.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (LLMFAO / "evalica-llmfao-golden.csv").open(newline="") as handle:
        golden = {r["item"]: float(r["score"]) for r in csv.DictReader(handle) if r["algorithm"] == "bradley_terry"}
    judgments = [Judgment(r["prompt"], r["left"], r["right"], OUTCOMES[r["winner"]]) for r in rows]
    xs, ys = [r["left"] for r in rows], [r["right"] for r in rows]
    winners = [WINNERS[r["winner"]] for r in rows]

    ours_time, ours = timed(lambda: bradley_terry(judgments), args.repeat)
    ours_scores = dict(zip(ours.models, ours.scores, strict=True))
    print(f"{len(rows):,} votes, {len(ours.models)} models, {len({r['prompt'] for r in rows})} prompts")
    print(f"{'Bradley–Terry fit':<40}{'seconds':>10}{'iterations':>12}{'max |Δ| golden':>16}{'max |Δ| ours':>14}")
    print(
        f"{'ours (MM, 1e-10)':<40}{ours_time:>10.4f}{ours.iterations:>12}{deviation(ours_scores, golden):>16.2e}{0:>14.2e}"
    )
    for tolerance in (1e-6, 1e-10):
        their_time, theirs = timed(
            lambda t=tolerance: evalica.bradley_terry(xs, ys, winners, tolerance=t, limit=100_000), args.repeat
        )
        scores = (theirs.scores / theirs.scores.sum()).to_dict()
        label = f"evalica {evalica.__version__} (Rust, {tolerance:g})"
        print(
            f"{label:<40}{their_time:>10.4f}{theirs.iterations:>12}"
            f"{deviation(scores, golden):>16.2e}{deviation(scores, ours_scores):>14.2e}"
        )

    print(f"\nBootstrap, {args.resamples:,} resamples{'seconds':>32}")
    ours_time, ranking = timed(lambda: rank(judgments, resamples=args.resamples, seed=0), 1)
    print(f"{'ours: prompts, BT refit, ratings':<50}{ours_time:>10.2f}   regularised: {ranking.regularised_resamples}")
    their_time, _ = timed(
        lambda: evalica.bootstrap(
            evalica.bradley_terry,
            xs,
            ys,
            winners,
            n_resamples=args.resamples,
            bootstrap_method="percentile",
            random_state=0,
        ),
        1,
    )
    print(f"{'evalica.bootstrap: votes, BT (Rust, 1e-6)':<50}{their_time:>10.2f}")
    widths = [entry.rating_interval.width for entry in ranking.models]
    print(
        f"ours: median 95% rating interval width {np.median(widths):.1f} points (min {min(widths):.1f}, max {max(widths):.1f})"
    )


def deviation(scores: dict[str, float], reference: dict[str, float]) -> float:
    return max(abs(scores[model] - reference[model]) for model in reference)


if __name__ == "__main__":
    main()
