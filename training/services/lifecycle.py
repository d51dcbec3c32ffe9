"""A run's lifecycle after launch: the one writer of a run's state.

Every change to a run's status, progress or heartbeat goes through `_apply` with an action of TRANSITIONS: one
conditional UPDATE on the states the action may start from (and, for the worker's writes, its own attempt), so two
writers racing each other (a worker finishing while the sweep declares it lost, a second delivery of the task) can
never both win. The reporter buffers progress and hands it here; pages only read.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from training.models import RunMetric, TrainingRun
from training.selectors import stale_cutoff
from training.services import RunRejected, Transition
from training.services.jobs import TRANSITIONS as JOB_TRANSITIONS
from training.services.launch import enqueue, pairs_in

logger = logging.getLogger(__name__)

Status = TrainingRun.Status
WORKER_LOST = "worker lost: no heartbeat since {since} (the worker died or was killed); resume to continue"


# A run moves as a model job does (jobs.py), and also beats (keeping a running run running) and resumes from its
# last checkpoint.
TRANSITIONS: dict[str, Transition] = {
    **JOB_TRANSITIONS,
    "heartbeat": Transition((Status.RUNNING,), Status.RUNNING),
    "resume": Transition((Status.FAILED, Status.CANCELLED), Status.QUEUED),
}
ENDING = {Status.SUCCEEDED: "finish", Status.FAILED: "fail", Status.CANCELLED: "stop"}


def _apply(action: str, *, run_id: int, where: dict[str, Any] | None = None, **fields: Any) -> bool:
    """The conditional update behind every transition: True when this call moved the run."""
    move = TRANSITIONS[action]
    rows = TrainingRun.objects.filter(id=run_id, status__in=move.sources, **(where or {}))
    return rows.update(status=move.target, **fields) == 1


def run_claim(*, run_id: int, worker: str = "") -> bool:
    """queued → running for a new attempt: a second delivery of the same task claims nothing."""
    now = timezone.now()
    return _apply(
        "claim", run_id=run_id, started_at=now, heartbeat_at=now, error="", worker=worker, attempt=F("attempt") + 1
    )


def run_progress(*, run_id: int, attempt: int, fields: dict[str, Any], metrics: list[RunMetric]) -> bool:
    """Step, ETA, log and metric rows from the reporter; False (nothing written) once the attempt is not current.

    Metric rows go in first and the run's row last, so the transaction holds the run row's lock only for its own
    UPDATE and never delays the heartbeat (which writes the same row from its own thread) for the metrics insert.
    """
    with transaction.atomic():
        if metrics:
            RunMetric.objects.bulk_create(
                metrics, update_conflicts=True, unique_fields=["run", "step"], update_fields=["metrics"]
            )
        current = _apply("progress", run_id=run_id, where={"attempt": attempt}, heartbeat_at=timezone.now(), **fields)
        if not current:
            transaction.set_rollback(True)
    return current


def run_forget_metrics_from(*, run_id: int, attempt: int, step: int) -> None:
    """A resumed attempt logs again from its checkpoint: rows from there on belong to the attempt that was lost."""
    with transaction.atomic():
        # A progress write of no fields: it checks (and locks the row while) this attempt still owns the run.
        if _apply("progress", run_id=run_id, where={"attempt": attempt}):
            RunMetric.objects.filter(run_id=run_id, step__gte=step).delete()


def run_heartbeat(*, run_id: int, attempt: int) -> bool:
    return _apply("heartbeat", run_id=run_id, where={"attempt": attempt}, heartbeat_at=timezone.now())


def _finish(run_id: int, attempt: int, status: str, **fields: Any) -> bool:
    # Only this attempt of a still-running run is finished: if it was declared lost (and maybe resumed) meanwhile,
    # that decision stands.
    now = timezone.now()
    return _apply(
        ENDING[status], run_id=run_id, where={"attempt": attempt}, finished_at=now, heartbeat_at=now, **fields
    )


def run_execute(*, run_id: int, worker: str = "") -> str | None:
    """Claim the run and train it to the end; returns the final status, or None if another delivery had it."""
    if not run_claim(run_id=run_id, worker=worker):
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
            _finish(run.id, run.attempt, Status.FAILED, error=f"{type(exc).__name__}: {exc}")
            return Status.FAILED
    if result.status == "cancelled":
        reporter.note(f"cancelled at step {result.final_step}")
        reporter.flush()
        _finish(run.id, run.attempt, Status.CANCELLED, step=result.final_step)
        return Status.CANCELLED
    reporter.note(f"finished: {result.final_step} steps, report written")
    reporter.flush()
    _finish(
        run.id,
        run.attempt,
        Status.SUCCEEDED,
        step=result.final_step,
        total_steps=result.total_steps,
        eta_seconds=0.0,
        eval_report=json_safe(result.eval_report),
    )
    return Status.SUCCEEDED


def run_cancel(*, run_id: int) -> TrainingRun:
    """A queued run is cancelled at once; a running one is asked to stop (the worker checkpoints and stops)."""
    cancelled = _apply("cancel", run_id=run_id, finished_at=timezone.now())
    if not cancelled:
        _apply("request_stop", run_id=run_id, cancel_requested=True)
    run = TrainingRun.objects.get(id=run_id)
    if run.status not in (Status.CANCELLED, Status.RUNNING):
        raise RunRejected([f"run #{run.id} is {run.status}; only queued or running runs can be cancelled"])
    return run


def run_resume(*, run_id: int) -> TrainingRun:
    """Queue a failed or cancelled run again; it continues from its last checkpoint to the same final step.

    A running run whose worker has gone silent (shown as lost) is recorded lost first, so Resume works on it without
    waiting for the sweep.
    """
    runs_mark_lost(run_id=run_id)
    with transaction.atomic():
        resumed = _apply("resume", run_id=run_id, resume=True, cancel_requested=False, finished_at=None)
        run = TrainingRun.objects.get(id=run_id)
        if not resumed:
            raise RunRejected([f"run #{run.id} is {run.status}; only failed or cancelled runs can be resumed"])
        enqueue(run)
    return run


def runs_mark_lost(*, now: datetime | None = None, run_id: int | None = None) -> int:
    """Running runs whose heartbeat went stale are failed as "worker lost"; returns how many.

    Each is failed only if its heartbeat is still the one read here: a beat landing in between keeps it running.
    """
    now = now or timezone.now()
    stale = TrainingRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=stale_cutoff(now))
    if run_id is not None:
        stale = stale.filter(id=run_id)
    marked = 0
    for stale_id, heartbeat in stale.values_list("id", "heartbeat_at"):
        marked += _apply(
            "mark_lost",
            run_id=stale_id,
            where={"heartbeat_at": heartbeat},
            finished_at=now,
            error=WORKER_LOST.format(since=heartbeat.isoformat(timespec="seconds")),
        )
    return marked
