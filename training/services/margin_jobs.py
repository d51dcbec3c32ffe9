"""Margin jobs ("Score pair difficulty"): a campaign's answers scored under a base model, for the export's margins.

The worker scores only the answers the model's digest has not scored yet and writes each batch through annotate's
service (`annotate.services.margin_logps`), so the cache grows as the job runs and a stopped job loses nothing.
Its status moves as every model job's does (jobs.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import islice
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotate.margin_selectors import campaign_has_chat_prompts, candidates_to_score, paired_candidates
from annotate.models import Campaign, Candidate
from annotate.services.margin_logps import LogProbResult, candidate_logprobs_store
from training.models import BaseModel, MarginJob
from training.services import JobRejected
from training.services.base_models import base_model_problems
from training.services.jobs import ProgressWriter, job_cancel, job_execute, job_move, jobs_mark_lost

DEVICE = "auto"
BATCH_SIZE = 8
# Answers read, scored and stored together: a cancelled job keeps every chunk it finished.
CHUNK_SIZE = 64
JOB_WORKER_LOST = "worker lost: {worker} stopped beating (it died or was killed); start it again to score the rest"


class MarginRejected(JobRejected):
    """A margin job that cannot be created or acted on; `errors` maps each field to messages a user can act on."""


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
    return job_cancel(MarginJob, job_id=job_id, rejected=MarginRejected)


def _score(job: MarginJob) -> dict[str, Any]:
    """Score the answers not yet cached under the model's digest, a chunk at a time, storing each chunk; the job
    succeeds with every answer done."""
    from training.engine.digest import model_digest
    from training.engine.margin_logps import AnswerRow, answer_logps, load_scorer

    job.model_digest = model_digest(job.base_model.path)
    job_move(MarginJob, "progress", job_id=job.id, model_digest=job.model_digest)

    # The ids first: the stored chunks change what "not yet scored" selects, so it is read once, up front.
    pending = list(
        candidates_to_score(campaign_id=job.campaign_id, model_digest=job.model_digest).values_list("id", flat=True)
    )
    cached = paired_candidates(campaign_id=job.campaign_id).count() - len(pending)
    total = len(pending)
    job_move(MarginJob, "progress", job_id=job.id, answers_total=total, answers_cached=max(cached, 0), answers_done=0)
    if not total:
        return {"answers_done": 0}
    progress = ProgressWriter(MarginJob, job_id=job.id, field="answers_done")
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
    return {"answers_done": total}


def margin_job_execute(*, job_id: int, worker: str = "") -> str | None:
    """Claim the job, score what is missing, record the end; returns the final status, or None if another delivery
    had it."""
    return job_execute(MarginJob.objects.select_related("base_model"), job_id=job_id, worker=worker, work=_score)


def margin_jobs_mark_lost(*, now: datetime | None = None) -> int:
    """Running jobs whose worker is no longer a live training worker are failed as "worker lost"; returns how many."""
    return jobs_mark_lost(MarginJob, message=JOB_WORKER_LOST, now=now)
