"""Reads of evaluation campaigns for their pages and the API (the leaderboard and win rates live in selectors.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from annotate.models import Comparison, Judgment
from evaluation.models import EvaluationCampaign


def evaluation_list() -> QuerySet[EvaluationCampaign]:
    """Every evaluation campaign, newest first, with what its summary reads."""
    return EvaluationCampaign.objects.select_related("run", "campaign__rubric", "generation_job", "created_by")


def evaluation_get(*, evaluation_id: int) -> EvaluationCampaign:
    """One evaluation campaign; 404 when there is none."""
    return get_object_or_404(evaluation_list(), id=evaluation_id)


def evaluation_summary(*, evaluation: EvaluationCampaign) -> dict[str, Any]:
    """What the API returns for an evaluation campaign: the models compared, its job, its progress in judgments."""
    job = evaluation.generation_job
    campaign = evaluation.campaign
    pairs = Comparison.objects.filter(campaign=campaign).count()
    judgments = Judgment.objects.filter(comparison__campaign=campaign).count()
    return {
        "id": evaluation.id,
        "run": evaluation.run_id,
        "campaign": campaign.slug,
        "baseline": evaluation.baseline,
        "run_model": {"model": evaluation.run_model, "version": evaluation.run_model_version},
        "baseline_model": {"model": evaluation.baseline_model, "version": evaluation.baseline_model_version},
        "overlap": campaign.overlap,
        "locales": [locale.code for locale in campaign.locales.order_by("code")],
        "rubric": {"slug": campaign.rubric.slug, "version": campaign.rubric.version},
        "generation_settings": evaluation.generation_settings,
        "generation_job": (
            {"id": job.id, "status": job.status, "percent": job.percent, "error": job.error or None} if job else None
        ),
        "pairs": pairs,
        "judgments": judgments,
        "judgments_wanted": pairs * campaign.overlap,
        "created_by": evaluation.created_by.username if evaluation.created_by else None,
        "created_at": evaluation.created_at.isoformat(),
    }
