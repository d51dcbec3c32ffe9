"""Reads for training pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from training.models import BaseModel, RunMetric, TrainingRun

CHART_SERIES = {
    "loss": ("loss", "eval/loss"),
    "margins": ("rewards/margins", "eval/rewards/margins"),
    "accuracy": ("rewards/accuracies", "eval/rewards/accuracies"),
}


def run_list() -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("base_model", "snapshot", "launched_by").defer(
        "log", "eval_report", "config"
    )


def run_get(*, run_id: int) -> TrainingRun:
    return get_object_or_404(TrainingRun.objects.select_related("base_model", "snapshot", "launched_by"), id=run_id)


def base_model_list() -> QuerySet[BaseModel]:
    return BaseModel.objects.order_by("name")


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
    """What the API returns for a run: status, progress, latest metrics, and the report once it has succeeded."""
    return {
        "id": run.id,
        "status": run.status,
        "snapshot": run.snapshot_id,
        "base_model": run.base_model_id,
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
