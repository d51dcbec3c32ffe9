"""Reads for judge-job pages and the API: jobs, their summaries, and how the judge agrees with the human majority."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from annotate import ai_judge_selectors
from training.models import JudgeJob
from training.selectors import job_state
from training.services.judge_jobs import as_judge


def job_list() -> QuerySet[JudgeJob]:
    return JudgeJob.objects.select_related("campaign", "requested_by")


def job_get(*, job_id: int) -> JudgeJob:
    """The job; Http404 (the styled page) when there is none."""
    return get_object_or_404(job_list(), id=job_id)


def job_agreement(*, job: JudgeJob) -> dict[str, Any] | None:
    """The judge against the human majority on every pair of the campaign it judged (this job's and earlier ones')."""
    return ai_judge_selectors.ai_judge_agreement(campaign=job.campaign, judge=as_judge(job.judge))


def job_summary(*, job: JudgeJob, agreement: bool = False) -> dict[str, Any]:
    """What the API returns for a job; with `agreement`, the judge's agreement with the human majority too."""
    pin = job.pinned_model
    summary = {
        **job_state(job=job),
        "model": {key: pin.get(key) for key in ("kind", "name", "base_model_id", "run_id", "revision")},
        "judge": job.judge,
        "campaign": job.campaign.slug,
        "limit": job.limit,
        "progress": {"pairs_done": job.pairs_done, "pairs_total": job.pairs_total, "percent": job.percent},
        "counts": {
            "judged": job.judged,
            "flips": job.flips,
            "unparseable": job.unparseable,
            "skipped": job.skipped,
            "position_consistency": job.position_consistency,
            "unparseable_share": job.unparseable_share,
        },
        "result": job.result,
    }
    if agreement:
        summary["agreement"] = job_agreement(job=job)
    return summary
