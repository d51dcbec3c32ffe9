"""Reads for generation pages and the API: jobs, the models a job can sample from, a run's lineage."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from training.models import GenerationJob, TrainingRun
from training.selectors import base_model_list, job_state, succeeded_runs
from training.services.generation import run_model_name


def job_list() -> QuerySet[GenerationJob]:
    return GenerationJob.objects.select_related("target_campaign", "source_run", "requested_by")


def job_get(*, job_id: int) -> GenerationJob:
    """The job; Http404 (the styled page) when there is none."""
    return get_object_or_404(job_list(), id=job_id)


def model_options() -> list[tuple[str, str]]:
    """(value, label) for every model a job can sample from: registered base models, then succeeded runs' adapters."""
    bases = [(f"base:{model.id}", f"{model.name} (base model)") for model in base_model_list()]
    runs = [(f"run:{run.id}", f"{run_model_name(run)} (adapter on {run.base_model.name})") for run in succeeded_runs()]
    return bases + runs


def job_summary(*, job: GenerationJob) -> dict[str, Any]:
    """What the API returns for a job."""
    return {
        **job_state(job=job),
        "name": job.name,
        "progress": {
            "sequences_done": job.sequences_done,
            "sequences_total": job.sequences_total,
            "percent": job.percent,
            "current_model": job.current_model,
        },
        "source": job.source,
        "prompt_count": job.prompt_count,
        "models": [
            {key: pin[key] for key in ("kind", "name", "base_model_id", "run_id", "revision")}
            for pin in job.pinned_models
        ],
        "settings": job.settings,
        "pairs": job.pairs,
        "target_campaign": job.target_slug,
        "round_of": job.source_run_id,
        "result": job.result,
    }


def run_lineage(*, run: TrainingRun) -> dict[str, Any]:
    """campaign → snapshot → run → generation → campaign: where the run's data came from and what it went on to make."""
    # Three queries whatever the chain holds: campaigns, generations, and the runs before and after (one query).
    related = list(TrainingRun.objects.filter(Q(id=run.parent_run_id) | Q(parent_run=run.id)).order_by("id"))
    return {
        "campaigns": list(run.snapshot.campaigns.order_by("slug")),
        "snapshot": run.snapshot,
        "parent_run": next((r for r in related if r.id == run.parent_run_id), None),
        "generations": list(run.generation_jobs.select_related("target_campaign").order_by("id")),
        "child_runs": [r for r in related if r.parent_run_id == run.id],
    }
