from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from training.models import BaseModel, GenerationJob, JudgeJob, MarginJob, RunMetric, TrainingRun


@admin.register(BaseModel)
class BaseModelAdmin(admin.ModelAdmin):
    list_display = ("name", "path", "parameter_count", "has_chat_template", "created_at")
    readonly_fields = ("revision", "parameter_count", "has_chat_template")


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "snapshot", "base_model", "preset", "step", "total_steps", "created_at")
    list_filter = ("status", "preset")
    readonly_fields = ("celery_task_id", "heartbeat_at", "started_at", "finished_at")


@admin.register(RunMetric)
class RunMetricAdmin(admin.ModelAdmin):
    list_display = ("run", "step")


class JobAdmin(admin.ModelAdmin):
    """A job is created by its service (which queues it) and written by its worker: the admin shows it, and may
    delete it, but never adds or edits one behind the queue's back."""

    list_filter = ("status",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        # Read from the model, so that fields a shared base class adds are read-only too.
        return [field.name for field in self.model._meta.fields]


@admin.register(GenerationJob)
class GenerationJobAdmin(JobAdmin):
    list_display = ("id", "name", "status", "target_slug", "prompt_count", "pairs", "requested_by", "created_at")
    list_filter = ("status", "pairs")
    search_fields = ("name", "target_slug")


@admin.register(JudgeJob)
class JudgeJobAdmin(JobAdmin):
    list_display = ("id", "campaign", "status", "pairs_done", "pairs_total", "flips", "unparseable", "created_at")
    list_filter = ("status", "campaign")


@admin.register(MarginJob)
class MarginJobAdmin(JobAdmin):
    list_display = ("id", "campaign", "base_model", "status", "answers_done", "answers_total", "created_at")
    list_filter = ("status", "campaign", "base_model")
