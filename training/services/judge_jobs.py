"""Judge jobs: a pinned model judges a campaign's pairs in both orders; its verdicts become AI judgments.

Creation pins the model (as a generation job does) and fixes the judge's identity: the model's name, its version
(the base model's revision, or `run-ID` for an adapter) and the digest of the judge prompt. Its status moves as every
model job's does (jobs.py). The worker judges the pairs in chunks; each chunk's verdicts and the job's counts are
written in one transaction through annotate's service, so a cancelled or failed job keeps what it judged, and a job
run again skips the pairs its judge already judged.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from annotate import ai_judge_selectors
from annotate.models import Campaign
from annotate.services.ai_judgments import AiJudge, ai_judgments_record
from training.models import JudgeJob
from training.services import JobRejected
from training.services.generation import check_pin, model_pin
from training.services.jobs import JobCancelled, job_cancel, job_execute, job_move, jobs_mark_lost, stop_if_asked

DEVICE = "auto"
CHUNK_PAIRS = 8  # pairs judged between two progress writes (16 prompts: both orders)
MAX_LIMIT = 100_000
UNPARSEABLE_KEPT = 50  # unparseable answers kept in the job's result, as given
JOB_WORKER_LOST = (
    "worker lost: {worker} stopped beating (it died or was killed); what it judged is kept, start it again"
)


class JudgeRejected(JobRejected):
    """A judge job that cannot be created or acted on; `errors` maps each field to messages a user can act on."""


# --- creation ----------------------------------------------------------------------------------------------------


def judge_identity(pin: dict[str, Any]) -> dict[str, str]:
    """Who the verdicts are from: the model as named in Verdict, its pinned version, the judge prompt's digest."""
    from training.engine.judge import TEMPLATE_SHA256

    version = f"run-{pin['run_id']}" if pin["run_id"] else pin["revision"][:16]
    return {"model": pin["name"], "version": version, "prompt_sha256": TEMPLATE_SHA256}


def as_judge(identity: dict[str, str]) -> AiJudge:
    return AiJudge(model=identity["model"], version=identity["version"], prompt_sha256=identity["prompt_sha256"])


def judge_job_create(
    *, model: str, campaign: str, limit: int | None = None, requested_by: AbstractBaseUser | None
) -> JudgeJob:
    """Validate, pin the model, create the job and queue it on commit; JudgeRejected (field → messages)."""
    errors: dict[str, list[str]] = {}
    model_errors: list[str] = []
    pin = model_pin(model, model_errors) if model else None
    if not model:
        model_errors.append("choose a model")
    if model_errors:
        errors["model"] = model_errors
    target = Campaign.objects.select_related("rubric").filter(slug=campaign).first() if campaign else None
    if target is None:
        errors["campaign"] = [f"no campaign {campaign!r}" if campaign else "choose a campaign"]
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = [f"must be between 1 and {MAX_LIMIT}, or empty for every pair"]
    if errors:
        raise JudgeRejected(errors)
    total = ai_judge_selectors.pair_count(campaign=target)
    if not total:
        raise JudgeRejected({"campaign": [f"campaign {campaign!r} has no pairs to judge"]})
    with transaction.atomic():
        job = JudgeJob.objects.create(
            pinned_model=pin,
            judge=judge_identity(pin),
            campaign=target,
            limit=limit,
            pairs_total=min(total, limit) if limit else total,
            requested_by=requested_by,
            celery_task_id=str(uuid.uuid4()),
        )
        from training.tasks import judge_pairs

        judge_pairs.apply_async_on_commit(args=(job.id,), task_id=job.celery_task_id)
    return job


def judge_job_cancel(*, job_id: int) -> JudgeJob:
    """A queued job is cancelled at once; a running one is asked to stop (after its current chunk)."""
    return job_cancel(JudgeJob, job_id=job_id, rejected=JudgeRejected)


# --- execution (the worker) --------------------------------------------------------------------------------------


def _record_chunk(job: JudgeJob, verdicts, unparsed: list[dict[str, Any]], skipped: int) -> bool:
    """One chunk's verdicts stored and the job's counts moved, in one transaction; False if the job stopped running
    meanwhile (declared lost): then nothing of the chunk is kept."""
    judged = [v for v in verdicts if v.parsed]
    with transaction.atomic():
        stored = ai_judgments_record(
            campaign=job.campaign,
            judge=as_judge(job.judge),
            verdicts=[(v.key, v.outcome, v.order_consistent) for v in judged],
        )
        for v in verdicts:
            if not v.parsed and len(unparsed) < UNPARSEABLE_KEPT:
                unparsed.append({"comparison": v.key, "answers": list(v.answers)})
        moved = job_move(
            JudgeJob,
            "progress",
            job_id=job.id,
            pairs_done=F("pairs_done") + len(verdicts) + skipped,
            judged=F("judged") + stored.created,
            flips=F("flips") + sum(v.flipped for v in judged),
            unparseable=F("unparseable") + len(verdicts) - len(judged),
            skipped=F("skipped") + skipped + stored.already_present,
            result={"unparseable_answers": unparsed},
        )
        if not moved:
            transaction.set_rollback(True)
    return moved


def _judge(job: JudgeJob) -> dict[str, Any]:
    """Judge the pairs this judge has not judged yet, a chunk at a time; nothing more to record with the success."""
    from training.engine.generate import load_generator
    from training.engine.judge import JudgePair, Rubric, judge_pairs

    pin = job.pinned_model
    check_pin(pin)
    pairs = ai_judge_selectors.pairs_for_judge(campaign=job.campaign, limit=job.limit)
    done = ai_judge_selectors.judged_pair_ids(campaign=job.campaign, judge=as_judge(job.judge))
    todo = [p for p in pairs if p["comparison"] not in done]
    job_move(JudgeJob, "progress", job_id=job.id, pairs_total=len(pairs), pairs_done=0)
    if len(todo) < len(pairs):
        _record_chunk(job, [], [], len(pairs) - len(todo))
    if not todo:
        return {}
    model, tokenizer = load_generator(pin["model_dir"], pin["adapter_dir"], device=DEVICE)
    rubric = Rubric(**ai_judge_selectors.judge_rubric(campaign=job.campaign))
    unparsed: list[dict[str, Any]] = []
    for start in range(0, len(todo), CHUNK_PAIRS):
        stop_if_asked(JudgeJob, job_id=job.id)
        chunk = [JudgePair(p["comparison"], p["prompt"], p["a"], p["b"]) for p in todo[start : start + CHUNK_PAIRS]]
        verdicts = judge_pairs(model, tokenizer, rubric, chunk)
        if not _record_chunk(job, verdicts, unparsed, 0):
            raise JobCancelled  # no longer running (declared lost): stop writing
    return {}


def judge_job_execute(*, job_id: int, worker: str = "") -> str | None:
    """Claim the job and judge its pairs; returns the final status, or None if another delivery had it."""
    jobs = JudgeJob.objects.select_related("campaign__rubric")
    return job_execute(jobs, job_id=job_id, worker=worker, work=_judge)


def judge_jobs_mark_lost(*, now: datetime | None = None) -> int:
    """Running jobs whose worker is no longer a live training worker are failed as "worker lost"; returns how many."""
    return jobs_mark_lost(JudgeJob, message=JOB_WORKER_LOST, now=now)
