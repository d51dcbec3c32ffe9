from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EvaluationCampaign(models.Model):
    """A succeeded run judged by reviewers against a baseline, on protected prompts, in its own campaign.

    The candidates carry `model_name`/`model_version` (as generation jobs write them); the four fields below name
    which of them is the run and which the baseline, so the report and the leaderboard need no guessing.
    """

    run = models.ForeignKey("training.TrainingRun", on_delete=models.CASCADE, related_name="evaluations")
    campaign = models.OneToOneField("annotate.Campaign", on_delete=models.CASCADE, related_name="evaluation")
    generation_job = models.OneToOneField(
        "training.GenerationJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="evaluation"
    )
    baseline = models.CharField(max_length=50, help_text="What the run is compared with: base:ID or run:ID")
    run_model = models.CharField(max_length=200)
    run_model_version = models.CharField(max_length=200, blank=True)
    baseline_model = models.CharField(max_length=200)
    baseline_model_version = models.CharField(max_length=200, blank=True)
    generation_settings = models.JSONField(default=dict, blank=True, help_text="The same for both models")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.run_model} vs {self.baseline_model} ({self.campaign.slug if self.campaign_id else '—'})"
