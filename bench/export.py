"""Snapshot export at scale on PostgreSQL: pairs/s and peak memory, streaming export beside a load-everything peer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/verdict_bench_export .venv/bin/python bench/export.py

With --difficulty, a third child exports with every pair difficulty knob on (reference margins from synthetic
cached log-probs, filled once; too-easy threshold, near-duplicate drop and a longer-answer cap, which makes the
export decide every pair twice), beside the plain one.

Creates the database if needed, migrates it, and fills campaign "export-bench" once (default 1M judgments: 333,334
pairs × 3 reviewers, with 2% gold pairs, 1% escalations (half resolved), 1% duplicate pairs and one flagged reviewer);
later runs reuse it. Each measurement runs in a fresh child process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench._postgres import require_bench_database  # noqa: E402  (needs the project root on sys.path)

SLUG = "export-bench"
BATCH = 20_000
RATERS = 3


def fill(judgments: int, n_reviewers: int, seed: int) -> None:
    """Bulk-load synthetic pairs: ORM bulk_create in large batches, one transaction per batch."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from annotate.models import (
        Assignment,
        Campaign,
        Candidate,
        Comparison,
        EscalationResolution,
        Judgment,
        Locale,
        Prompt,
        ReviewerFlag,
        Rubric,
    )

    rng = np.random.default_rng(seed)
    now = timezone.now()
    pairs = -(-judgments // RATERS)
    with transaction.atomic():
        locales = [Locale.objects.get_or_create(code=code)[0] for code in ("en-US", "ja-JP", "de-DE")]
        rubric = Rubric.objects.create(slug=SLUG, title="Bench")
        campaign = Campaign.objects.create(slug=SLUG, name="Export bench", rubric=rubric, overlap=RATERS)
        campaign.locales.set(locales)
        reviewers = User.objects.bulk_create([User(username=f"xb-r{i}") for i in range(n_reviewers)])
        lead = User.objects.create(username="xb-lead")
        ReviewerFlag.objects.create(reviewer=reviewers[0], campaign=campaign, flagged_by=lead)
    outcomes = np.array(["a", "b", "tie", "both_bad"])
    for first in range(0, pairs, BATCH):
        size = min(BATCH, pairs - first)
        with transaction.atomic():
            prompts = Prompt.objects.bulk_create(
                [
                    Prompt(
                        campaign=campaign,
                        external_id=f"p{first + i}",
                        locale=locales[(first + i) % 3],
                        # 1% repeat the previous prompt and answers: the duplicate check has work to do.
                        text=f"Prompt {first + i - 1 if (first + i) % 100 == 99 else first + i}: " + "q" * 200,
                        tags={"scenario": "chat"},
                    )
                    for i in range(size)
                ]
            )
            candidates = Candidate.objects.bulk_create(
                [
                    Candidate(
                        prompt=prompt,
                        external_id=side,
                        text=f"{side} answer to {prompt.text[:16]} " + "x" * 400,
                        model_name="atlas" if side == "a" else "borealis",
                        model_version="v1",
                    )
                    for prompt in prompts
                    for side in ("a", "b")
                ]
            )
            comparisons = Comparison.objects.bulk_create(
                [
                    Comparison(
                        campaign=campaign,
                        prompt=prompt,
                        candidate_a=candidates[2 * i],
                        candidate_b=candidates[2 * i + 1],
                        gold_outcome="a" if rng.random() < 0.02 else "",
                    )
                    for i, prompt in enumerate(prompts)
                ]
            )
            assignments, rows = [], []
            for comparison in comparisons:
                truth = rng.integers(4)
                base = int(rng.integers(n_reviewers))
                for slot in range(RATERS):
                    outcome = str(outcomes[truth] if rng.random() < 0.75 else outcomes[rng.integers(4)])
                    if rng.random() < 0.01:
                        outcome = "escalate"
                    reviewer = reviewers[(base + slot * 37) % n_reviewers]
                    assignment = Assignment(
                        reviewer=reviewer,
                        comparison=comparison,
                        state=Assignment.State.SUBMITTED,
                        expires_at=now,
                        submitted_at=now,
                    )
                    assignments.append(assignment)
                    rows.append(
                        Judgment(
                            assignment=assignment,
                            comparison=comparison,
                            reviewer=reviewer,
                            outcome=outcome,
                            strength=["slight", "clear", "strong"][int(rng.integers(3))]
                            if outcome in ("a", "b")
                            else "",
                        )
                    )
            Assignment.objects.bulk_create(assignments, batch_size=5_000)
            for judgment in rows:
                judgment.assignment_id = judgment.assignment.pk
            Judgment.objects.bulk_create(rows, batch_size=5_000)
            EscalationResolution.objects.bulk_create(
                [
                    EscalationResolution(
                        judgment=judgment, decision="a" if judgment.id % 4 else "discard", resolved_by=lead
                    )
                    for judgment in rows
                    if judgment.outcome == "escalate" and judgment.id % 2
                ]
            )
        print(f"  filled {first + size:,} / {pairs:,} pairs", flush=True)


DIGEST = "be" * 32
DIFFICULTY = {"reference_model_digest": DIGEST, "max_margin_nats": 1.0, "longer_answer_cap": 0.5}


def fill_logprobs(seed: int) -> None:
    """Synthetic log-probs under DIGEST for every candidate of the campaign (once): what a margin job would store."""
    from annotate.models import Candidate, CandidateLogProb
    from annotate.services.margin_logps import LogProbResult, candidate_logprobs_store

    if CandidateLogProb.objects.filter(model_digest=DIGEST).exists():
        return
    rng = np.random.default_rng(seed)
    ids = list(Candidate.objects.filter(prompt__campaign__slug=SLUG).values_list("id", flat=True))
    for first in range(0, len(ids), BATCH):
        chunk = ids[first : first + BATCH]
        tokens = rng.integers(20, 200, size=len(chunk))
        logps = -tokens * rng.uniform(0.5, 3.0, size=len(chunk))
        results = [LogProbResult(c, float(lp), int(t)) for c, lp, t in zip(chunk, logps, tokens, strict=True)]
        candidate_logprobs_store(model_digest=DIGEST, model_name="bench", results=results)


def peak_rss_kb() -> int:
    """This process's own peak RSS: VmHWM (Linux's ru_maxrss keeps the parent's peak across exec, VmHWM does not)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(mode: str, weighting: str) -> None:
    """Child process: run one export (or the peer) and print a JSON line of figures."""
    import django

    django.setup()
    from annotate.export_policy import ExportPolicy
    from annotate.models import Campaign, Judgment
    from annotate.services.exporting import export_preview, snapshot_create

    campaign = Campaign.objects.select_related("rubric").get(slug=SLUG)
    baseline = peak_rss_kb()
    start = time.perf_counter()
    if mode in ("streaming", "difficulty"):
        knobs = DIFFICULTY if mode == "difficulty" else {}
        policy = ExportPolicy(weighting=weighting, **knobs)
        snapshot = snapshot_create(campaigns=[campaign], policy=policy, created_by=None)
        pairs = snapshot.manifest["counts"]["pairs"]
        extra = {"exported": snapshot.manifest["counts"]["exported"], "path": snapshot.path}
    elif mode == "preview":
        counts = export_preview(campaigns=[campaign], policy=ExportPolicy(weighting=weighting))
        pairs, extra = counts["pairs"], {"exported": counts["exported"]}
    else:
        # The peer: what a straightforward export does first, every judgment row with its pair's texts in memory.
        rows = list(
            Judgment.objects.filter(comparison__campaign=campaign)
            .order_by("comparison_id", "id")
            .values_list(
                "id",
                "comparison_id",
                "reviewer_id",
                "outcome",
                "strength",
                "comparison__prompt__text",
                "comparison__candidate_a__text",
                "comparison__candidate_b__text",
            )
        )
        pairs = len({row[1] for row in rows})
        extra = {"rows": len(rows)}
    seconds = time.perf_counter() - start
    peak = peak_rss_kb()
    print(json.dumps({"pairs": pairs, "seconds": seconds, "baseline_kb": baseline, "peak_kb": peak, **extra}))


def run_child(mode: str, weighting: str, data_dir: str) -> dict:
    env = {**os.environ, "VERDICT_DATA_DIR": data_dir}
    command = [sys.executable, __file__, "--child", mode, "--weighting", weighting]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--weighting", default="majority", choices=["majority", "reliability"])
    parser.add_argument("--no-peer", action="store_true", help="skip the load-everything peer")
    parser.add_argument("--preview", action="store_true", help="also time the page's live preview (no files)")
    parser.add_argument("--difficulty", action="store_true", help="also export with every difficulty knob on")
    parser.add_argument("--child", choices=["streaming", "preview", "peer", "difficulty"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        measure(options.child, options.weighting)
        return
    require_bench_database("verdict_bench_export")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from annotate.models import Campaign, Judgment

    call_command("migrate", verbosity=0)
    if not Campaign.objects.filter(slug=SLUG).exists():
        start = time.perf_counter()
        fill(options.judgments, options.reviewers, seed=0)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"fill (once): {time.perf_counter() - start:.1f} s")
    count = Judgment.objects.filter(comparison__campaign__slug=SLUG).count()
    print(f"campaign {SLUG}: {count:,} judgments, weighting={options.weighting}")
    connection.close()

    with tempfile.TemporaryDirectory(prefix="export-bench-") as data_dir:
        results = [("streaming export (snapshot_create)", run_child("streaming", options.weighting, data_dir))]
        if options.difficulty:
            fill_logprobs(seed=1)
            connection.close()
            results.append(("with every difficulty knob", run_child("difficulty", options.weighting, data_dir)))
        if options.preview:
            results.append(
                ("live preview (export_preview, no files)", run_child("preview", options.weighting, data_dir))
            )
        if not options.no_peer:
            results.append(("peer: load every judgment row first", run_child("peer", options.weighting, data_dir)))
        print(f"{'':<40}{'pairs':>10}{'seconds':>10}{'pairs/s':>10}{'peak RSS':>12}{'over start':>12}")
        for label, r in results:
            print(
                f"{label:<40}{r['pairs']:>10,}{r['seconds']:>10.1f}{r['pairs'] / r['seconds']:>10,.0f}"
                f"{r['peak_kb'] / 1024:>9.0f} MiB{(r['peak_kb'] - r['baseline_kb']) / 1024:>9.0f} MiB"
            )
        streaming = results[0][1]
        files = json.loads((Path(streaming["path"]) / "manifest.json").read_text())["files"]
        sizes = ", ".join(f"{name} {info['rows']:,} rows" for name, info in files.items())
        print(f"exported {streaming['exported']:,} pairs: {sizes}")


if __name__ == "__main__":
    main()
