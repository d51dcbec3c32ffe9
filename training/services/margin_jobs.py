"""Margin jobs ("Score pair difficulty"): a campaign's answers scored under a base model, for the export's margins.

The worker scores only the answers the model's digest has not scored yet and writes each batch through annotate's
service (`annotate.services.margin_logps`), so the cache grows as the job runs and a stopped job loses nothing.
Every change of a job's status goes through `_apply` with an action of TRANSITIONS (one conditional UPDATE), as
generation jobs do.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from itertools import islice
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from annotate.margin_selectors import campaign_has_chat_prompts, candidates_to_score, paired_candidates
from annotate.models import Campaign, Candidate
from annotate.services.margin_logps import LogProbResult, candidate_logprobs_store
from training.models import BaseModel, MarginJob
from training.selectors import live_workers, stale_cutoff
from training.services import Transition
from training.services.base_models import base_model_problems

logger = logging.getLogger(__name__)

Status = MarginJob.Status
DEVICE = "auto"
BATCH_SIZE = 8
# Answers read, scored and stored together: a cancelled job keeps every chunk it finished.
CHUNK_SIZE = 64
PROGRESS_INTERVAL_S = 1.0
JOB_WORKER_LOST = "worker lost: {worker} stopped beating (it died or was killed); start it again to score the rest"

TRANSITIONS: dict[str, Transition] = {
    "claim": Transition((Status.QUEUED,), Status.RUNNING),
    "progress": Transition((Status.RUNNING,), Status.RUNNING),
    "request_stop": Transition((Status.RUNNING,), Status.RUNNING),
    "finish": Transition((Status.RUNNING,), Status.SUCCEEDED),
    "fail": Transition((Status.RUNNING,), Status.FAILED),
    "stop": Transition((Status.RUNNING,), Status.CANCELLED),
    "cancel": Transition((Status.QUEUED,), Status.CANCELLED),
    "mark_lost": Transition((Status.RUNNING,), Status.FAILED),
}


class MarginRejected(Exception):
    """A margin job that cannot be created or acted on; `errors` maps each field to messages a user can act on."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {m}" for key, messages in errors.items() for m in messages))


class JobCancelled(Exception):
    """Raised between chunks when a lead asked the running job to stop."""


def _apply(action: str, *, job_id: int, **fields: Any) -> bool:
    """The conditional update behind every transition: True when this call moved the job."""
    move = TRANSITIONS[action]
    return MarginJob.objects.filter(id=job_id, status__in=move.sources).update(status=move.target, **fields) == 1


def margin_job_create(*, base_model_id: int, campaign_slug: str, requested_by: AbstractBaseUser | None) -> MarginJob:
    """Check the model and campaign, create the job and queue it on the training queue on commit; MarginRejected."""
    errors: dict[str, list[str]] = {}
    base = BaseModel.objects.filter(id=base_model_id).first()
    if base is None:
        errors["base_model"] = [f"no registered base model with id {base_model_id}"]
    elif problems := base_model_problems(base):
        errors["base_model"] = [p.removeprefix("base_model: ") for p in problems]
    campaign = Campaign.objects.filter(slug=campaign_slug).first()
    if campaign is None:
        errors["campaign"] = [f"no campaign {campaign_slug!r}"]
    elif not errors and not base.has_chat_template and campaign_has_chat_prompts(campaign_id=campaign.id):
        errors["base_model"] = [f"{base.name} has no chat template, and {campaign.slug} has chat prompts"]
    if errors:
        raise MarginRejected(errors)
    with transaction.atomic():
        job = MarginJob.objects.create(
            base_model=base,
            campaign=campaign,
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
            celery_task_id=str(uuid.uuid4()),
        )
        from training.tasks import score_margins

        score_margins.apply_async_on_commit(args=(job.id,), task_id=job.celery_task_id)
    return job


def margin_job_cancel(*, job_id: int) -> MarginJob:
    """A queued job is cancelled at once; a running one is asked to stop (it stops after its current chunk)."""
    moved = _apply("cancel", job_id=job_id, finished_at=timezone.now()) or _apply(
        "request_stop", job_id=job_id, cancel_requested=True
    )
    job = MarginJob.objects.get(id=job_id)
    if not moved:
        raise MarginRejected({"status": [f"job #{job.id} is {job.status}; only a queued or running job can stop"]})
    return job


class _Progress:
    """Writes answers done now and then, and stops the job when a lead asked it to."""

    def __init__(self, job_id: int) -> None:
        self.job_id, self.last = job_id, float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_S and done < total:
            return
        self.last = now
        MarginJob.objects.filter(id=self.job_id, status=Status.RUNNING).update(answers_done=done)
        if MarginJob.objects.filter(id=self.job_id, cancel_requested=True).exists():
            raise JobCancelled


def _score(job: MarginJob, progress: _Progress) -> None:
    """Score the answers not yet cached under the job's digest, a chunk at a time, storing each chunk."""
    from training.engine.margin_logps import AnswerRow, answer_logps, load_scorer

    # The ids first: the stored chunks change what "not yet scored" selects, so it is read once, up front.
    pending = list(
        candidates_to_score(campaign_id=job.campaign_id, model_digest=job.model_digest).values_list("id", flat=True)
    )
    cached = paired_candidates(campaign_id=job.campaign_id).count() - len(pending)
    total = len(pending)
    _apply("progress", job_id=job.id, answers_total=total, answers_cached=max(cached, 0), answers_done=0)
    if not total:
        return
    model, tokenizer = load_scorer(job.base_model.path, device=DEVICE)
    done = 0
    ids = iter(pending)
    while chunk_ids := list(islice(ids, CHUNK_SIZE)):
        chunk = list(Candidate.objects.filter(id__in=chunk_ids).select_related("prompt").order_by("id"))
        rows = [AnswerRow(prompt=c.prompt.messages or c.prompt.text, answer=c.text) for c in chunk]
        scores = answer_logps(model, tokenizer, rows, batch_size=BATCH_SIZE)
        candidate_logprobs_store(
            model_digest=job.model_digest,
            model_name=job.base_model.name,
            results=[LogProbResult(c.id, s.logp_sum, s.tokens) for c, s in zip(chunk, scores, strict=True)],
        )
        done += len(chunk)
        progress(done, total)


def margin_job_execute(*, job_id: int, worker: str = "") -> str | None:
    """Claim the job, score what is missing, record the end; returns the final status, or None if another delivery
    had it."""
    if not _apply("claim", job_id=job_id, started_at=timezone.now(), worker=worker, error=""):
        return None
    from training.engine.digest import model_digest

    job = MarginJob.objects.select_related("base_model").get(id=job_id)
    try:
        digest = model_digest(job.base_model.path)
        _apply("progress", job_id=job.id, model_digest=digest)
        job.model_digest = digest
        _score(job, _Progress(job.id))
    except JobCancelled:
        _apply("stop", job_id=job.id, finished_at=timezone.now())
        return Status.CANCELLED
    except Exception as exc:  # kept on the job with its message; the task never retries
        logger.exception("margin job %s failed", job.id)
        _apply("fail", job_id=job.id, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}")
        return Status.FAILED
    job.refresh_from_db(fields=["answers_total"])
    _apply("finish", job_id=job.id, finished_at=timezone.now(), answers_done=job.answers_total)
    return MarginJob.objects.values_list("status", flat=True).get(id=job.id)


def margin_jobs_mark_lost(*, now: datetime | None = None) -> int:
    """Running jobs whose worker is no longer a live training worker are failed as "worker lost"; returns how many.

    As for generation jobs, the worker's heartbeat (TrainingWorker.last_seen_at) says whether anyone still runs it.
    """
    now = now or timezone.now()
    live = live_workers(now).values_list("name", flat=True)
    lost = MarginJob.objects.filter(status=Status.RUNNING, started_at__lt=stale_cutoff(now)).exclude(worker__in=live)
    return sum(
        _apply("mark_lost", job_id=job_id, finished_at=now, error=JOB_WORKER_LOST.format(worker=worker or "?"))
        for job_id, worker in lost.values_list("id", "worker")
    )
