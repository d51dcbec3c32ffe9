"""The training API's input checks and documented shapes. Types and sizes are checked here; whether the snapshot,
model and settings make a run is the launch service's (RunRejected, `field: problem` messages)."""

from __future__ import annotations

from rest_framework import serializers

from config.api import IdField, TextField
from training.models import TrainingRun, TrainingWorker
from training.presets import DEFAULT_PRESET
from training.selectors import LOST
from training.services.launch import RUN_NOTES_MAX_LENGTH


class RunLaunchSerializer(serializers.Serializer):
    snapshot = IdField(help_text="a dataset snapshot's id")
    base_model = IdField(help_text="a registered base model's id")
    preset = TextField(max_length=40, default=DEFAULT_PRESET, help_text="quick or standard")
    overrides = serializers.DictField(required=False, default=dict, help_text="engine settings over the preset's")
    name = TextField(
        required=False, default="", allow_blank=True, max_length=TrainingRun._meta.get_field("name").max_length
    )
    notes = TextField(required=False, default="", allow_blank=True, max_length=RUN_NOTES_MAX_LENGTH)


class RunProgressSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    percent = serializers.IntegerField()
    eta_seconds = serializers.FloatField(allow_null=True)
    pairs_per_second = serializers.FloatField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    notes = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=TrainingRun.Status.values)
    shown_status = serializers.ChoiceField(
        choices=[*TrainingRun.Status.values, LOST], help_text="lost: running, but its worker stopped beating"
    )
    snapshot = serializers.IntegerField()
    base_model = serializers.IntegerField()
    preset = serializers.CharField(allow_blank=True)
    progress = RunProgressSerializer()
    checkpoint_step = serializers.IntegerField(allow_null=True)
    worker = serializers.CharField(allow_blank=True, help_text="the worker that claimed it last")
    latest_metrics = serializers.DictField()
    error = serializers.CharField(allow_blank=True)
    config = serializers.DictField(help_text="the resolved engine config")
    lineage = serializers.DictField()
    celery_task_id = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    report = serializers.DictField(allow_null=True, help_text="the held-out evaluation, once the run has succeeded")


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField()
    device = serializers.ChoiceField(choices=TrainingWorker.Device.values)
    device_name = serializers.CharField(allow_blank=True)
    memory_bytes = serializers.IntegerField(allow_null=True)
    live = serializers.BooleanField()
    busy_run = serializers.IntegerField(allow_null=True, help_text="the id of the run it is training")
    started_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
