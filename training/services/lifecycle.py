"""A run's lifecycle after launch: claim and execute (in the worker), cancel, resume, mark lost."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from training.models import TrainingRun
from training.services import RunRejected
from training.services.launch import enqueue, pairs_in

logger = logging.getLogger(__name__)

WORKER_LOST = "worker lost: no heartbeat since {since} (the worker died or was killed); resume to continue"


def run_claim(*, run_id: int) -> bool:
    """queued → running by conditional update: a second delivery of the same task claims nothing."""
    now = timezone.now()
    claimed = TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, started_at=now, heartbeat_at=now, error="", attempt=F("attempt") + 1
    )
    return claimed == 1


def _finish(run_id: int, attempt: int, status: str, **fields: Any) -> None:
    # Only this attempt of a still-running run is finished: if it was declared lost (and maybe resumed) meanwhile,
    # that decision stands.
    TrainingRun.objects.filter(id=run_id, attempt=attempt, status=TrainingRun.Status.RUNNING).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


def run_execute(*, run_id: int) -> str | None:
    """Claim the run and train it to the end; returns the final status, or None if another delivery had it."""
    if not run_claim(run_id=run_id):
        return None
    from training.engine import EngineConfig, load_pairs, train_dpo
    from training.reporting import DatabaseReporter, Heartbeat, json_safe

    run = TrainingRun.objects.get(id=run_id)
    reporter = DatabaseReporter(run_id=run.id, attempt=run.attempt, interval_s=settings.TRAINING_PROGRESS_INTERVAL_S)
    with Heartbeat(run_id=run.id, attempt=run.attempt, every_s=settings.TRAINING_HEARTBEAT_S):
        try:
            config = EngineConfig.from_dict(run.config)
            files = run.data_files
            train = load_pairs(files["train"])
            test = load_pairs(files["test"]) if pairs_in(files, "test") else []
            ties = load_pairs(files["ties"], is_tie=True) if pairs_in(files, "ties") else []
            reporter.note("resuming from the last checkpoint" if run.resume else "loading the model and data")
            result = train_dpo(config, train, test, reporter, ties=ties, resume=run.resume)
        except Exception as exc:  # any failure is recorded on the run; the task never retries
            logger.exception("training run %s failed", run.id)
            reporter.note(f"failed: {type(exc).__name__}: {exc}")
            reporter.flush()
            _finish(run.id, run.attempt, TrainingRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
            return TrainingRun.Status.FAILED
    if result.status == "cancelled":
        reporter.note(f"cancelled at step {result.final_step}")
        reporter.flush()
        _finish(run.id, run.attempt, TrainingRun.Status.CANCELLED, step=result.final_step)
        return TrainingRun.Status.CANCELLED
    reporter.note(f"finished: {result.final_step} steps, report written")
    reporter.flush()
    _finish(
        run.id,
        run.attempt,
        TrainingRun.Status.SUCCEEDED,
        step=result.final_step,
        total_steps=result.total_steps,
        eta_seconds=0.0,
        eval_report=json_safe(result.eval_report),
    )
    return TrainingRun.Status.SUCCEEDED


def run_cancel(*, run_id: int) -> TrainingRun:
    """A queued run is cancelled at once; a running one is asked to stop (the worker checkpoints and stops)."""
    now = timezone.now()
    TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.CANCELLED, finished_at=now
    )
    TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.RUNNING).update(cancel_requested=True)
    run = TrainingRun.objects.get(id=run_id)
    if run.status not in (TrainingRun.Status.CANCELLED, TrainingRun.Status.RUNNING):
        raise RunRejected([f"run #{run.id} is {run.status}; only queued or running runs can be cancelled"])
    return run


def run_resume(*, run_id: int) -> TrainingRun:
    """Queue a failed or cancelled run again; it continues from its last checkpoint to the same final step."""
    with transaction.atomic():
        resumed = TrainingRun.objects.filter(
            id=run_id, status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED]
        ).update(status=TrainingRun.Status.QUEUED, resume=True, cancel_requested=False, finished_at=None)
        run = TrainingRun.objects.get(id=run_id)
        if not resumed:
            raise RunRejected([f"run #{run.id} is {run.status}; only failed or cancelled runs can be resumed"])
        enqueue(run)
    return run


def runs_mark_lost(*, now=None) -> int:
    """Running runs whose heartbeat went stale are failed as "worker lost"; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRAINING_STALE_AFTER_S)
    stale = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=cutoff)
    marked = 0
    for run_id, heartbeat in stale.values_list("id", "heartbeat_at"):
        marked += TrainingRun.objects.filter(
            id=run_id, status=TrainingRun.Status.RUNNING, heartbeat_at=heartbeat
        ).update(
            status=TrainingRun.Status.FAILED,
            finished_at=now,
            error=WORKER_LOST.format(since=heartbeat.isoformat(timespec="seconds")),
        )
    return marked
