from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from annotate import models
from annotate.services.rubrics import rubric_revise


@admin.register(models.Locale)
class LocaleAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(models.Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["reviewer", "locale", "granted_by", "granted_at"]
    list_filter = ["locale"]
    autocomplete_fields = ["locale"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(models.Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ["slug", "version", "title", "created_at"]
    search_fields = ["slug", "title"]

    def save_model(self, request, obj, form, change) -> None:
        """Editing a rubric a campaign uses saves the edit as the next version instead."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        original = models.Rubric.objects.get(pk=obj.pk)
        revised = rubric_revise(rubric=original, title=obj.title, guidelines=obj.guidelines, criteria=obj.criteria)
        if revised.pk != original.pk:
            obj.pk, obj.version = revised.pk, revised.version
            messages.info(request, f"{original} is in use, so the edit was saved as version {revised.version}.")


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "rubric", "overlap", "gold_rate", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["locales"]


class CandidateInline(admin.TabularInline):
    model = models.Candidate
    extra = 0


@admin.register(models.Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["external_id", "campaign", "locale", "created_at"]
    list_filter = ["campaign", "locale"]
    search_fields = ["external_id", "text"]
    inlines = [CandidateInline]


@admin.register(models.Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["id", "campaign", "prompt", "candidate_a", "candidate_b", "gold_outcome"]
    list_filter = ["campaign"]
    raw_id_fields = ["prompt", "candidate_a", "candidate_b"]


@admin.register(models.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "reviewer", "comparison", "a_on_left", "state", "expires_at"]
    list_filter = ["state"]
    raw_id_fields = ["comparison"]


@admin.register(models.Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["id", "reviewer", "comparison", "outcome", "strength", "gold_correct", "source", "created_at"]
    list_filter = ["outcome", "strength", "source"]
    raw_id_fields = ["assignment", "comparison"]


@admin.register(models.JudgeIdentity)
class JudgeIdentityAdmin(admin.ModelAdmin):
    list_display = ["user", "source", "external_id", "model_name", "model_version", "prompt_sha256"]
    list_filter = ["source"]


@admin.register(models.EscalationResolution)
class EscalationResolutionAdmin(admin.ModelAdmin):
    list_display = ["judgment", "decision", "resolved_by", "resolved_at"]


@admin.register(models.ReviewerFlag)
class ReviewerFlagAdmin(admin.ModelAdmin):
    list_display = ["reviewer", "campaign", "active", "flagged_by", "created_at", "cleared_by", "cleared_at"]
    list_filter = ["active"]


@admin.register(models.DatasetSnapshot)
class DatasetSnapshotAdmin(admin.ModelAdmin):
    list_display = ["version", "created_by", "created_at", "manifest_sha256"]
    readonly_fields = ["version", "policy", "path", "manifest", "manifest_sha256", "created_by", "created_at"]


@admin.register(models.ProtectedPrompt)
class ProtectedPromptAdmin(admin.ModelAdmin):
    """Protected by evaluations and leads through the protection service; deleting one lifts its protection."""

    list_display = ["preview", "locale_code", "campaign", "run_id", "reason", "created_by", "created_at"]
    list_filter = ["locale_code"]
    search_fields = ["preview", "digest", "reason"]
    readonly_fields = ["digest", "locale_code", "preview", "campaign", "run_id", "reason", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the digest is of the normalised text: only the service computes it


@admin.register(models.CandidateLogProb)
class CandidateLogProbAdmin(admin.ModelAdmin):
    """A margin job's cache: written by the worker only."""

    list_display = ["candidate", "model_name", "model_digest", "logprob_sum", "tokens", "created_at"]
    list_filter = ["model_name"]
    readonly_fields = ["candidate", "model_digest", "model_name", "logprob_sum", "tokens", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
