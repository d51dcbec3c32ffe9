from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from evaluation.models import EvaluationCampaign


@admin.register(EvaluationCampaign)
class EvaluationCampaignAdmin(admin.ModelAdmin):
    """Created by "Evaluate with reviewers" (which protects the prompts and queues the generation): shown here only."""

    list_display = ("id", "run", "campaign", "baseline", "run_model", "baseline_model", "created_by", "created_at")
    list_filter = ("baseline_model",)
    search_fields = ("campaign__slug", "run_model", "baseline_model")
    readonly_fields = (
        "run",
        "campaign",
        "generation_job",
        "baseline",
        "run_model",
        "run_model_version",
        "baseline_model",
        "baseline_model_version",
        "generation_settings",
        "created_by",
        "created_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
