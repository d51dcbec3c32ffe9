"""Generation jobs: sample candidates from pinned models and import them into a campaign as pairs to judge.

Creation fixes everything the worker needs (the prompts, copied to a file; each model's folder and pin; the
settings), so a job means the same thing whenever it runs. Its status moves as every model job's does (jobs.py).
The import at the end and the job's success are one transaction: a job either filled its campaign or left it as it
was.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from annotate.models import Campaign, Locale
from annotate.services.importing import ImportRejected, import_comparisons
from training.models import BaseModel, GenerationJob, TrainingRun
from training.services import GenerationRejected
from training.services.base_models import base_model_problems, model_revision
from training.services.generation_prompts import as_chat, chosen_prompt_rows
from training.services.jobs import JobFailed, ProgressWriter, job_cancel, job_execute, job_move, jobs_mark_lost

logger = logging.getLogger(__name__)

PAIRING = ("across-models", "all")
# "auto": CUDA when the worker has it; sequences sampled together (bounded by memory on long answers).
DEVICE = "auto"
BATCH_SIZE = 16
JOB_WORKER_LOST = "worker lost: {worker} stopped beating (it died or was killed); nothing was imported, start it again"


# --- creation ----------------------------------------------------------------------------------------------------


def run_model_name(run: TrainingRun) -> str:
    return run.name or f"run #{run.id}"


def model_pin(choice: str, errors: list[str]) -> dict[str, Any] | None:
    """`base:ID` or `run:ID` → the model as the worker will load it, pinned (base revision, or run id)."""
    kind, _, raw_id = choice.partition(":")
    if kind not in ("base", "run") or not raw_id.isdigit():
        errors.append(f"{choice!r}: expected base:ID (a registered model) or run:ID (a succeeded run's adapter)")
        return None
    if kind == "base":
        base = BaseModel.objects.filter(id=int(raw_id)).first()
        if base is None:
            errors.append(f"{choice}: no registered base model with id {raw_id}")
            return None
        problems = base_model_problems(base)
        errors += [p.removeprefix("base_model: ") for p in problems]
        pin = {"kind": "base", "base_model_id": base.id, "name": base.name, "revision": base.revision}
        pin["chat"] = base.has_chat_template
        return None if problems else {**pin, "model_dir": base.path, "adapter_dir": None, "run_id": None}
    run = TrainingRun.objects.select_related("base_model").filter(id=int(raw_id)).first()
    if run is None or run.status != TrainingRun.Status.SUCCEEDED:
        errors.append(f"{choice}: no succeeded run with id {raw_id} (only a finished run has an adapter)")
        return None
    if not (Path(run.output_dir) / "adapter_config.json").is_file():
        errors.append(f"{choice}: run #{run.id}'s adapter is missing from {run.output_dir}")
        return None
    base = run.base_model
    return {
        "kind": "run",
        "base_model_id": base.id,
        "name": run_model_name(run),
        "revision": base.revision,
        "chat": base.has_chat_template,
        "model_dir": base.path,
        "adapter_dir": run.output_dir,
        "run_id": run.id,
    }


def check_pin(pin: dict[str, Any]) -> None:
    """At execution: the pinned model's folder must be as it was when the job was created."""
    if model_revision(Path(pin["model_dir"])) != pin["revision"]:
        raise RuntimeError(f"{pin['model_dir']} changed since the job was created (its revision differs)")


def _pins(choices: list[str]) -> list[dict[str, Any]]:
    errors: list[str] = []
    pins = [pin for choice in dict.fromkeys(choices) if (pin := model_pin(choice, errors)) is not None]
    if not choices:
        errors.append("choose at least one model")
    names = [pin["name"] for pin in pins]
    errors += [
        f"two chosen models are both named {name!r}; rename a run"
        for name in sorted(set(names))
        if names.count(name) > 1
    ]
    if errors:
        raise GenerationRejected({"models": errors})
    return pins


def round_number(run: TrainingRun) -> int:
    """Round 1 trains on judgments of answers from elsewhere; each parent link is one round before."""
    rounds, seen = 1, {run.id}
    while run.parent_run_id and run.parent_run_id not in seen:
        seen.add(run.parent_run_id)
        run, rounds = run.parent_run, rounds + 1
    return rounds


def next_round_defaults(*, run: TrainingRun) -> dict[str, Any]:
    """What "Next round" fills in: the run's adapter and its base, its snapshot's unused prompts, a new campaign."""
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise GenerationRejected(
            {"round_of": [f"run #{run.id} is {run.status}; only a succeeded run has a next round"]}
        )
    first = run.snapshot.campaigns.order_by("slug").first()
    stem = first.slug if first else f"run-{run.id}"
    slug = slugify(f"{stem}-round-{round_number(run) + 1}")[:100]
    return {"round_of": run.id, "models": [f"run:{run.id}", f"base:{run.base_model_id}"], "target_campaign": slug}


def generation_job_create(
    *,
    models: list[str],
    settings_values: dict[str, Any],
    target_campaign: str,
    requested_by: AbstractBaseUser | None,
    source_campaign: str = "",
    locale: str = "",
    tag: str = "",
    prompts_file: bytes | None = None,
    round_of: int | None = None,
    pairs: str = "across-models",
    name: str = "",
) -> GenerationJob:
    """Validate, copy the prompts and pin the models, create the job and queue it on commit; GenerationRejected."""
    from training.engine.sampling import SamplingSettings

    known = {"samples", "temperature", "top_p", "max_new_tokens", "seed"}
    unknown = sorted(set(settings_values) - known)
    if unknown:
        raise GenerationRejected({key: [f"unknown setting; known: {', '.join(sorted(known))}"] for key in unknown})
    errors: dict[str, list[str]] = {}
    sampling = SamplingSettings(**settings_values)
    for problem in sampling.problems():
        field, _, message = problem.partition(": ")
        errors.setdefault(field, []).append(message)
    if pairs not in PAIRING:
        errors["pairs"] = [f"must be one of {', '.join(PAIRING)}"]
    if not target_campaign or slugify(target_campaign) != target_campaign:
        errors["target_campaign"] = ["give a campaign slug (lowercase letters, digits and hyphens)"]
    campaign = None
    if source_campaign:
        campaign = Campaign.objects.filter(slug=source_campaign).first()
        if campaign is None:
            errors["source_campaign"] = [f"no campaign {source_campaign!r}"]
    if locale and not Locale.objects.filter(code=locale).exists():
        errors["locale"] = [f"unknown locale {locale!r}"]
    run = TrainingRun.objects.filter(id=round_of).select_related("snapshot").first() if round_of else None
    if round_of and run is None:
        errors["round_of"] = [f"no run with id {round_of}"]
    try:
        pins = _pins(models)
    except GenerationRejected as exc:
        errors |= exc.errors
    if errors:
        raise GenerationRejected(errors)
    if run is not None:
        next_round_defaults(run=run)  # refuses a run that has not succeeded
    rows, source = chosen_prompt_rows(
        source_campaign=campaign, locale=locale, tag=tag, upload=prompts_file, round_of=run
    )
    if not rows:
        raise GenerationRejected({"prompts": ["no prompts match (check the campaign, locale and tag)"]})
    # Not into the campaign the prompts came from: there the stored prompt (plain text) is what reviewers see.
    if all(pin["chat"] for pin in pins) and target_campaign != source_campaign:
        rows, source = [as_chat(row) for row in rows], {**source, "as_chat": True}
    unknown = sorted({row["locale"] for row in rows} - set(Locale.objects.values_list("code", flat=True)))
    if unknown:
        raise GenerationRejected(
            {"prompts_file": [f"unknown locale {code!r} (add it in the admin first)" for code in unknown]}
        )

    output_dir = Path(settings.DATA_DIR) / "generation" / uuid.uuid4().hex
    output_dir.mkdir(parents=True)
    prompts_path = output_dir / "prompts.jsonl"
    prompts_path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    with transaction.atomic():
        job = GenerationJob.objects.create(
            name=name,
            source=source,
            source_campaign=campaign,
            source_run=run,
            prompts_file=str(prompts_path),
            prompt_count=len(rows),
            pinned_models=pins,
            settings=sampling.to_json(),
            pairs=pairs,
            target_slug=target_campaign,
            sequences_total=len(rows) * sampling.samples * len(pins),
            output_dir=str(output_dir),
            requested_by=requested_by,
            celery_task_id=str(uuid.uuid4()),
        )
        from training.tasks import generate_candidates

        generate_candidates.apply_async_on_commit(args=(job.id,), task_id=job.celery_task_id)
    return job


def generation_job_cancel(*, job_id: int) -> GenerationJob:
    """A queued job is cancelled at once; a running one is asked to stop (it stops after its current batch)."""
    return job_cancel(GenerationJob, job_id=job_id, rejected=GenerationRejected)


# --- execution (the worker) --------------------------------------------------------------------------------------


def _sample(job: GenerationJob, pin: dict[str, Any], rows, done_before: int) -> list[dict[str, Any]]:
    """One model's answers to every prompt, as import rows; the pin is checked against the folder first."""
    from training.engine.digest import adapter_digest, model_digest
    from training.engine.generate import generate_rows, load_generator
    from training.engine.sampling import SamplingSettings

    check_pin(pin)
    model, tokenizer = load_generator(pin["model_dir"], pin["adapter_dir"], device=DEVICE)
    out = generate_rows(
        model,
        tokenizer,
        rows,
        SamplingSettings(**job.settings),
        model_name=pin["name"],
        base_sha256=model_digest(pin["model_dir"]),
        adapter_sha256=adapter_digest(pin["adapter_dir"]) if pin["adapter_dir"] else None,
        batch_size=BATCH_SIZE,
        on_batch=ProgressWriter(GenerationJob, job_id=job.id, field="sequences_done", offset=done_before),
    )
    for row in out:
        for candidate in row["candidates"]:
            # A byte-level model can emit U+0000, which no database column takes: shown as U+FFFD instead.
            candidate["text"] = candidate["text"].replace("\x00", "\ufffd")
            if pin["run_id"]:  # an adapter is pinned by its run: the run page explains it; the digests stay in meta
                candidate["model_version"] = f"run-{pin['run_id']}"
                candidate["meta"]["run_id"] = pin["run_id"]
    return out


def _import(job: GenerationJob, rows: list[dict[str, Any]]) -> None:
    """Import every model's answers and record success, in one transaction."""
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
    (Path(job.output_dir) / "candidates.jsonl").write_bytes(data)
    try:
        with transaction.atomic():
            result = import_comparisons(
                campaign_slug=job.target_slug, data=data, pairs=job.pairs, allow_empty=True, allow_identical=True
            )
            counts = {
                "prompts_created": result.prompts_created,
                "candidates_created": result.candidates_created,
                "comparisons_created": result.comparisons_created,
            }
            fields = {"target_campaign": result.campaign, "result": counts, "current_model": ""}
            if not job_move(GenerationJob, "finish", job_id=job.id, finished_at=timezone.now(), **fields):
                transaction.set_rollback(True)
    except ImportRejected as exc:
        raise JobFailed("import refused: " + "; ".join(exc.errors)) from exc


def _generate(job: GenerationJob) -> None:
    """Sample from each model in turn, then import everything (which records the job's success)."""
    from training.engine.prompts import read_prompt_rows

    per_model = job.prompt_count * job.settings["samples"]
    prompts = read_prompt_rows(job.prompts_file)
    merged = [{**row.fields, "candidates": []} for row in prompts]
    for index, pin in enumerate(job.pinned_models):
        job_move(GenerationJob, "progress", job_id=job.id, current_model=pin["name"], sequences_done=index * per_model)
        for row, answered in zip(merged, _sample(job, pin, prompts, index * per_model), strict=True):
            row["candidates"] += answered["candidates"]
    _import(job, merged)


def generation_job_execute(*, job_id: int, worker: str = "") -> str | None:
    """Claim the job, sample from each model, import; returns the final status, or None if another delivery had it."""
    return job_execute(
        GenerationJob.objects.all(), job_id=job_id, worker=worker, work=_generate, stopped={"current_model": ""}
    )


def generation_jobs_mark_lost(*, now: datetime | None = None) -> int:
    """Running jobs whose worker is no longer a live training worker are failed as "worker lost"; returns how many."""
    return jobs_mark_lost(GenerationJob, message=JOB_WORKER_LOST, now=now)
