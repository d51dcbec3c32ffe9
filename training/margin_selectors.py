"""Reads for margin job pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from training.models import MarginJob
from training.selectors import job_state


def margin_job_list() -> QuerySet[MarginJob]:
    return MarginJob.objects.select_related("base_model", "campaign", "requested_by")


def margin_job_get(*, job_id: int) -> MarginJob:
    """The job; Http404 (the styled page) when there is none."""
    return get_object_or_404(margin_job_list(), id=job_id)


def margin_job_summary(*, job: MarginJob) -> dict[str, Any]:
    """What the API returns for a job."""
    return {
        **job_state(job=job),
        "base_model": {"id": job.base_model_id, "name": job.base_model.name},
        "campaign": job.campaign.slug,
        "model_digest": job.model_digest,
        "progress": {
            "answers_done": job.answers_done,
            "answers_total": job.answers_total,
            "answers_cached": job.answers_cached,
            "percent": job.percent,
        },
    }
