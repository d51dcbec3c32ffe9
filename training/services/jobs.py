"""What generation, judge and margin jobs share: the one writer of a job's status, and the worker's frame around
each job's own work (claim, stop when asked, record the end).

Every change of a job's status goes through `job_move` with an action of TRANSITIONS: one conditional UPDATE on the
states the action may start from, so two writers racing each other (a worker finishing while the sweep declares it
lost, a second delivery of the task) can never both win. A run moves the same way, with attempts (lifecycle.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.utils import timezone

from training.models import JobStatus, ModelJob
from training.selectors import live_workers, stale_cutoff
from training.services import JobRejected, Transition

logger = logging.getLogger(__name__)

Status = JobStatus
Job = TypeVar("Job", bound=ModelJob)
# Progress is written at most this often (seconds); the cancel flag is read with it.
PROGRESS_INTERVAL_S = 1.0

# The allowed moves, declared once (a run has these and two more: lifecycle.py). progress and request_stop keep a
# running job running (they write other fields); stop is the worker honouring a cancel request, cancel stops a job
# no worker has claimed yet.
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


class JobCancelled(Exception):
    """Raised inside a job's work when a lead asked it to stop, or when it is no longer running (declared lost)."""


class JobFailed(Exception):
    """Raised inside a job's work for a failure whose message users can act on: recorded as given, no traceback."""


def _named(job: ModelJob) -> str:
    return f"{job._meta.verbose_name} #{job.id}"


def job_move(model: type[ModelJob], action: str, *, job_id: int, **fields: Any) -> bool:
    """The conditional update behind every transition: True when this call moved the job."""
    move = TRANSITIONS[action]
    return model.objects.filter(id=job_id, status__in=move.sources).update(status=move.target, **fields) == 1


def job_cancel(model: type[Job], *, job_id: int, rejected: type[JobRejected]) -> Job:
    """A queued job is cancelled at once; a running one is asked to stop (its work stops at its next check)."""
    moved = job_move(model, "cancel", job_id=job_id, finished_at=timezone.now()) or job_move(
        model, "request_stop", job_id=job_id, cancel_requested=True
    )
    job = model.objects.get(id=job_id)
    if not moved:
        raise rejected({"status": [f"{_named(job)} is {job.status}; only a queued or running job can stop"]})
    return job


def stop_if_asked(model: type[ModelJob], *, job_id: int) -> None:
    """JobCancelled once a lead asked the job to stop; the work calls it between its steps."""
    if model.objects.filter(id=job_id, cancel_requested=True).exists():
        raise JobCancelled


class ProgressWriter:
    """A worker's progress callback `(done, total)`: writes `done + offset` to the job's `field` now and then (and at
    the end), and stops the job when a lead asked it to."""

    def __init__(self, model: type[ModelJob], *, job_id: int, field: str, offset: int = 0) -> None:
        self.model, self.job_id, self.field, self.offset = model, job_id, field, offset
        self.last = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_S and done < total:
            return
        self.last = now
        self.model.objects.filter(id=self.job_id, status=Status.RUNNING).update(**{self.field: self.offset + done})
        stop_if_asked(self.model, job_id=self.job_id)


def job_execute(
    jobs: QuerySet[Job],
    *,
    job_id: int,
    worker: str,
    work: Callable[[Job], dict[str, Any] | None],
    stopped: dict[str, Any] | None = None,
) -> str | None:
    """Claim the job, run `work` on it and record how it ended; returns the final status, or None if another delivery
    had it.

    `work` returns the fields to record with the job's success, or None when it recorded the success itself (in one
    transaction with its last write). `stopped` are fields to record when it stops on a cancel request. Any failure
    is kept on the job with its message; the task never retries.
    """
    model = jobs.model
    if not job_move(model, "claim", job_id=job_id, started_at=timezone.now(), worker=worker, error=""):
        return None
    job = jobs.get(id=job_id)
    try:
        finished = work(job)
    except JobCancelled:
        job_move(model, "stop", job_id=job_id, finished_at=timezone.now(), **(stopped or {}))
    except JobFailed as exc:
        job_move(model, "fail", job_id=job_id, finished_at=timezone.now(), error=str(exc))
    except Exception as exc:
        logger.exception("%s failed", _named(job))
        job_move(model, "fail", job_id=job_id, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}")
    else:
        if finished is not None:
            job_move(model, "finish", job_id=job_id, finished_at=timezone.now(), **finished)
    return model.objects.values_list("status", flat=True).get(id=job_id)


def jobs_mark_lost(model: type[ModelJob], *, message: str, now: datetime | None = None) -> int:
    """Running jobs whose worker is no longer a live training worker are failed with `message` (formatted with the
    worker's name); returns how many.

    A job has no heartbeat of its own: its worker's (TrainingWorker.last_seen_at) says whether anyone still runs it.
    Jobs claimed within the stale period are left alone, so a worker that has just started is never judged early.
    """
    now = now or timezone.now()
    live = live_workers(now).values_list("name", flat=True)
    lost = model.objects.filter(status=Status.RUNNING, started_at__lt=stale_cutoff(now)).exclude(worker__in=live)
    return sum(
        job_move(model, "mark_lost", job_id=job_id, finished_at=now, error=message.format(worker=worker or "?"))
        for job_id, worker in lost.values_list("id", "worker")
    )
