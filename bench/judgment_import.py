"""`import_judgments` at scale on PostgreSQL: lines/s and peak memory, first import and re-import of one file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/verdict_bench_judgments .venv/bin/python bench/judgment_import.py \
        [--lines 1000000]

Creates the database if needed, migrates it, and fills campaign "judgment-bench" once with lines/4 prompts of two
candidates each (no pairs yet: the import creates them); later runs reuse it. The generated file gives every pair three
annotators (of 50) and one AI judge, like PandaLM. Each measurement runs in a fresh child process, so its peak RSS is
its own; beside it, the RSS of the same child after only loading Django, and of a child reading every line into a list
(what a non-streaming import would at least hold).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench._postgres import require_bench_database  # noqa: E402  (needs the project root on sys.path)

SLUG = "judgment-bench"
BATCH = 20_000
OUTCOMES = ("a", "b", "tie", "a", "b", "both_bad")


def fill(prompts: int) -> None:
    from django.db import transaction

    from annotate.models import Campaign, Candidate, Locale, Prompt, Rubric

    with transaction.atomic():
        locale = Locale.objects.get_or_create(code="en-US")[0]
        rubric = Rubric.objects.get_or_create(slug=SLUG, defaults={"title": "Bench"})[0]
        campaign = Campaign.objects.create(slug=SLUG, name="Judgment import bench", rubric=rubric, overlap=3)
        campaign.locales.add(locale)
    for first in range(0, prompts, BATCH):
        size = min(BATCH, prompts - first)
        with transaction.atomic():
            rows = Prompt.objects.bulk_create(
                Prompt(campaign=campaign, external_id=f"p{first + i}", locale=locale, text=f"Prompt {first + i}?")
                for i in range(size)
            )
            Candidate.objects.bulk_create(
                Candidate(prompt=prompt, external_id=side, text=f"Answer {side} to {prompt.external_id}.")
                for prompt in rows
                for side in ("x", "y")
            )


def write_file(path: Path, prompts: int) -> int:
    """Three annotator lines and one judge line per prompt; returns the line count."""
    lines = 0
    with path.open("w") as handle:
        for index in range(prompts):
            for k in range(3):
                annotator = f"w{(index + 17 * k) % 50}"
                outcome = OUTCOMES[(index * 7 + k) % len(OUTCOMES)]
                a, b = ("x", "y") if (index + k) % 2 else ("y", "x")
                row = {"prompt_id": f"p{index}", "a": a, "b": b, "outcome": outcome, "annotator": annotator}
                handle.write(json.dumps(row) + "\n")
            judge = {"model": "bench-judge", "version": "1"}
            row = {"prompt_id": f"p{index}", "a": "x", "b": "y", "outcome": OUTCOMES[index % 3], "judge": judge}
            handle.write(json.dumps(row) + "\n")
            lines += 4
    return lines


def peak_rss_mib() -> float:
    """This process's own high-water mark (VmHWM). Not ru_maxrss: Linux carries that over from the forking parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(mode: str, path: str) -> None:
    import django

    django.setup()
    started = time.perf_counter()
    report: dict = {}
    if mode == "import":
        from annotate.services.judgment_imports import import_judgments

        with open(path, "rb") as lines:
            result = import_judgments(campaign_slug=SLUG, lines=lines)
        report = {"created": result.judgments_created, "already": result.already_present, "lines": result.lines}
    elif mode == "list":
        with open(path, "rb") as handle:
            report = {"lines": len([json.loads(line) for line in handle])}
    report["seconds"] = time.perf_counter() - started
    report["peak_rss_mb"] = peak_rss_mib()
    print(json.dumps(report))


def run_child(mode: str, path: Path) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    require_bench_database("verdict_bench_judgments")
    import django

    django.setup()
    from django.core.management import call_command

    from annotate.models import Campaign, Judgment

    call_command("migrate", verbosity=0)
    prompts = -(-args.lines // 4)
    campaign = Campaign.objects.filter(slug=SLUG).first()
    if campaign is None or campaign.prompts.count() != prompts:
        if campaign is not None:
            campaign.delete()
        print(f"filling {prompts:,} prompts …", flush=True)
        fill(prompts)
    Judgment.objects.filter(comparison__campaign__slug=SLUG).delete()
    Campaign.objects.get(slug=SLUG).comparisons.all().delete()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "judgments.jsonl"
        lines = write_file(path, prompts)
        print(f"{lines:,} lines, {path.stat().st_size / 2**20:.0f} MiB")
        print(f"{'run':<34} {'lines/s':>10} {'seconds':>9} {'peak RSS MiB':>13}")
        for label, mode in (
            ("Django loaded, nothing read", "none"),
            ("every line parsed into a list", "list"),
            ("import_judgments (first import)", "import"),
            ("import_judgments (re-import)", "import"),
        ):
            report = run_child(mode, path)
            rate = f"{lines / report['seconds']:,.0f}" if mode != "none" else "-"
            extra = f"  created {report['created']:,}, already {report['already']:,}" if mode == "import" else ""
            print(f"{label:<34} {rate:>10} {report['seconds']:>9.1f} {report['peak_rss_mb']:>13.0f}{extra}")


if __name__ == "__main__":
    main()
