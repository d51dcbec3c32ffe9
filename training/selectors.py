"""Reads for training pages and the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from training.models import BaseModel, ModelJob, RunMetric, TrainingRun, TrainingWorker

Status = TrainingRun.Status
LOST = "lost"  # shown, never stored: a running run whose heartbeat went stale (the sweep records it as failed)

CHART_SERIES = {
    "loss": ("loss", "eval/loss"),
    "margins": ("rewards/margins", "eval/rewards/margins"),
    "accuracy": ("rewards/accuracies", "eval/rewards/accuracies"),
}


def stale_cutoff(now: datetime | None = None) -> datetime:
    """Heartbeats older than this mean the worker is gone: the sweep records such runs lost, pages show them so."""
    return (now or timezone.now()) - timedelta(seconds=settings.TRAINING_STALE_AFTER_S)


def _succeeded(expression):
    """A number from the report counts only for a run that succeeded: a failed run is never ranked."""
    return Case(When(status=Status.SUCCEEDED, then=expression), default=None, output_field=FloatField())


def _report_number(path: str):
    return _succeeded(Cast(KT(f"eval_report__{path}"), FloatField()))


# The columns the runs list sorts by (`?sort=lift`, `?sort=-lift`), all computed in the database.
RUN_SORTS = {
    "created": "created_at",
    "accuracy": "accuracy",
    "lift": "lift",
    "kl": "kl",
    "duration": "duration",
    "pairs_per_s": "pairs_per_second",
}
DEFAULT_RUN_SORT = "-created"


def _runs(now: datetime | None = None) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("base_model", "snapshot", "launched_by").annotate(
        shown_status=Case(
            When(status=Status.RUNNING, heartbeat_at__lt=stale_cutoff(now), then=Value(LOST)),
            default=F("status"),
            output_field=CharField(),
        )
    )


def run_list(*, sort: str = DEFAULT_RUN_SORT) -> QuerySet[TrainingRun]:
    """Runs with their headline numbers (accuracy, lift, KL, duration) and `shown_status`, sorted by `sort`."""
    runs = (
        _runs()
        .defer("log", "eval_report", "config")
        .annotate(
            accuracy=_report_number("preference_accuracy"),
            lift=_succeeded(
                Cast(KT("eval_report__preference_accuracy"), FloatField())
                - Cast(KT("eval_report__reference_preference_accuracy"), FloatField())
            ),
            kl=_report_number("kl__per_sequence"),
            duration=ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()),
        )
    )
    field = RUN_SORTS.get(sort.lstrip("-"), "created_at")
    order = F(field).desc(nulls_last=True) if sort.startswith("-") else F(field).asc(nulls_last=True)
    return runs.order_by(order, "-id")


def run_get(*, run_id: int) -> TrainingRun:
    """The run with `shown_status`; Http404 (the styled page) when there is none."""
    return get_object_or_404(_runs(), id=run_id)


def runs_by_ids(*, run_ids: list[int]) -> list[TrainingRun]:
    """The runs in the order asked; Http404 naming the first id that does not exist."""
    found = {run.id: run for run in _runs().filter(id__in=run_ids)}
    missing = [run_id for run_id in run_ids if run_id not in found]
    if missing:
        raise Http404(f"runs: no run #{missing[0]}")
    return [found[run_id] for run_id in run_ids]


def live_workers(now: datetime | None = None) -> QuerySet[TrainingWorker]:
    """Training workers that beat within TRAINING_STALE_AFTER_S and did not shut down."""
    return TrainingWorker.objects.filter(stopped_at__isnull=True, last_seen_at__gte=stale_cutoff(now))


def live_workers_with_gpu() -> QuerySet[TrainingWorker]:
    """Live training workers with a CUDA device: a run asking for `device: cuda` needs one (launch checks)."""
    return live_workers().filter(device=TrainingWorker.Device.CUDA)


def worker_list(*, within: timedelta = timedelta(days=1)) -> list[TrainingWorker]:
    """Workers seen in the last day, live first, each with `live` and `busy_run` (the id of the run it trains)."""
    cutoff = stale_cutoff()
    workers = list(
        TrainingWorker.objects.filter(last_seen_at__gte=timezone.now() - within)
        .annotate(
            live=Case(
                When(stopped_at__isnull=True, last_seen_at__gte=cutoff, then=Value(True)),
                default=Value(False),
            )
        )
        .order_by("-live", "name")
    )
    busy_runs = dict(
        TrainingRun.objects.filter(
            status=Status.RUNNING, heartbeat_at__gte=cutoff, worker__in=[w.name for w in workers if w.live]
        ).values_list("worker", "id")
    )
    for worker in workers:
        worker.busy_run = busy_runs.get(worker.name)
    return workers


def base_model_list() -> QuerySet[BaseModel]:
    return BaseModel.objects.order_by("name")


def succeeded_runs() -> QuerySet[TrainingRun]:
    """Runs with an adapter to generate from or continue, newest first."""
    return TrainingRun.objects.filter(status=Status.SUCCEEDED).select_related("base_model").order_by("-id")


def run_metric_series(*, run: TrainingRun, after: int = 0) -> dict[str, Any]:
    """Chart data for steps after `after`: {"steps": [...], "series": {chart: {train: [...], eval: [...]}}}."""
    rows = RunMetric.objects.filter(run=run, step__gt=after).order_by("step").values_list("step", "metrics")
    steps, series = [], {chart: {"train": [], "eval": []} for chart in CHART_SERIES}
    for step, metrics in rows:
        steps.append(step)
        for chart, (train_key, eval_key) in CHART_SERIES.items():
            series[chart]["train"].append(metrics.get(train_key))
            series[chart]["eval"].append(metrics.get(eval_key))
    return {"steps": steps, "series": series}


def run_log_tail(*, run: TrainingRun, lines: int = 40) -> str:
    return "\n".join(run.log.splitlines()[-lines:])


def run_summary(*, run: TrainingRun) -> dict[str, Any]:
    """What the API returns for a run (from run_get or run_list): status as recorded and as shown (`lost` for a running
    run whose heartbeat went stale), progress, latest metrics, and the report once it has succeeded."""
    return {
        "id": run.id,
        "name": run.name,
        "notes": run.notes,
        "status": run.status,
        "shown_status": run.shown_status,
        "snapshot": run.snapshot_id,
        "base_model": run.base_model_id,
        "parent_run": run.parent_run_id,
        "preset": run.preset,
        "progress": {
            "step": run.step,
            "total_steps": run.total_steps,
            "percent": run.percent,
            "eta_seconds": run.eta_seconds,
            "pairs_per_second": run.pairs_per_second,
            "heartbeat_at": run.heartbeat_at,
        },
        "checkpoint_step": run.checkpoint_step,
        "worker": run.worker,
        "latest_metrics": run.latest_metrics,
        "error": run.error,
        "config": run.config,
        "lineage": run.lineage,
        "celery_task_id": run.celery_task_id,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "report": run.eval_report if run.status == TrainingRun.Status.SUCCEEDED else None,
    }


def worker_summary(*, worker: TrainingWorker) -> dict[str, Any]:
    """What the API returns for a worker from worker_list."""
    return {
        "name": worker.name,
        "device": worker.device,
        "device_name": worker.device_name,
        "memory_bytes": worker.memory_bytes,
        "live": worker.live,
        "busy_run": worker.busy_run,
        "started_at": worker.started_at,
        "last_seen_at": worker.last_seen_at,
    }


def job_state(*, job: ModelJob) -> dict[str, Any]:
    """What every model job's API summary has (serializers.ModelJobSerializer), before its own fields."""
    return {
        "id": job.id,
        "status": job.status,
        "cancel_requested": job.cancel_requested,
        "error": job.error,
        "worker": job.worker,
        "celery_task_id": job.celery_task_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
