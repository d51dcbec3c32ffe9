from __future__ import annotations

from django.contrib import admin

from training.models import BaseModel, RunMetric, TrainingRun


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
