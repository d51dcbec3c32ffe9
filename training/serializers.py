"""The training API's input checks and documented shapes. Types and sizes are checked here; whether the snapshot,
model and settings make a run is the launch service's (RunRejected, `field: problem` messages), and whether models
and prompts make a generation job the generation service's (GenerationRejected)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.api import IdField, TextField
from config.ids import MAX_ID
from training.models import JobStatus, TrainingRun, TrainingWorker
from training.presets import DEFAULT_PRESET
from training.selectors import LOST
from training.services.generation import PAIRING, generation_job_create
from training.services.launch import RUN_NOTES_MAX_LENGTH

SETTING_NAMES = ("samples", "temperature", "top_p", "max_new_tokens", "seed")


class RunLaunchSerializer(serializers.Serializer):
    snapshot = IdField(help_text="a dataset snapshot's id")
    base_model = IdField(help_text="a registered base model's id")
    preset = TextField(max_length=40, default=DEFAULT_PRESET, help_text="quick or standard")
    overrides = serializers.DictField(required=False, default=dict, help_text="engine settings over the preset's")
    name = TextField(
        required=False, default="", allow_blank=True, max_length=TrainingRun._meta.get_field("name").max_length
    )
    notes = TextField(required=False, default="", allow_blank=True, max_length=RUN_NOTES_MAX_LENGTH)
    parent_run = IdField(
        required=False, allow_null=True, default=None, help_text="a succeeded run whose adapter this run continues"
    )


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
    status = serializers.ChoiceField(choices=JobStatus.choices)
    shown_status = serializers.ChoiceField(
        choices=[*JobStatus.values, LOST], help_text="lost: running, but its worker stopped beating"
    )
    snapshot = serializers.IntegerField()
    base_model = serializers.IntegerField()
    preset = serializers.CharField(allow_blank=True)
    parent_run = serializers.IntegerField(allow_null=True, help_text="the run whose adapter this one continued")
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


class GenerationJobInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    models = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=8)
    source_campaign = serializers.SlugField(max_length=100, required=False, allow_blank=True, default="")
    locale = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    tag = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    prompts_file = serializers.FileField(required=False, allow_null=True, default=None)
    round_of = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    samples = serializers.IntegerField(min_value=1, max_value=16, default=2)
    temperature = serializers.FloatField(min_value=0.0, max_value=5.0, default=0.8)
    top_p = serializers.FloatField(min_value=0.01, max_value=1.0, default=0.95)
    max_new_tokens = serializers.IntegerField(min_value=1, max_value=4096, default=256)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    pairs = serializers.ChoiceField(choices=PAIRING, default="across-models")
    target_campaign = serializers.SlugField(max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sources = [key for key in ("source_campaign", "prompts_file") if attrs.get(key)]
        if len(sources) > 1:
            raise serializers.ValidationError({"prompts_file": ["give a campaign or a file of prompts, not both"]})
        if not sources and not attrs.get("round_of"):
            raise serializers.ValidationError({"source_campaign": ["choose a campaign's prompts or upload a file"]})
        return attrs

    def create_job(self, *, requested_by):
        """The job from validated input; GenerationRejected (field → messages) when the service refuses it."""
        data = self.validated_data
        upload = data["prompts_file"]
        return generation_job_create(
            name=data["name"],
            models=data["models"],
            source_campaign=data["source_campaign"],
            locale=data["locale"],
            tag=data["tag"],
            prompts_file=upload.read() if upload else None,
            round_of=data["round_of"],
            settings_values={key: data[key] for key in SETTING_NAMES},
            pairs=data["pairs"],
            target_campaign=data["target_campaign"],
            requested_by=requested_by,
        )


class ModelJobSerializer(serializers.Serializer):
    """What every model job's API shape has (selectors.job_state), before its own fields."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    cancel_requested = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)
    worker = serializers.CharField(allow_blank=True)
    celery_task_id = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class GenerationProgressSerializer(serializers.Serializer):
    sequences_done = serializers.IntegerField()
    sequences_total = serializers.IntegerField()
    percent = serializers.IntegerField()
    current_model = serializers.CharField(allow_blank=True)


class PinnedModelSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["base", "run"])
    name = serializers.CharField()
    base_model_id = serializers.IntegerField(allow_null=True)
    run_id = serializers.IntegerField(allow_null=True)
    revision = serializers.CharField(allow_blank=True, allow_null=True)


class GenerationJobSerializer(ModelJobSerializer):
    name = serializers.CharField(allow_blank=True)
    progress = GenerationProgressSerializer()
    source = serializers.DictField(help_text="where the prompts came from")
    prompt_count = serializers.IntegerField()
    models = PinnedModelSerializer(many=True, help_text="the models sampled, pinned when the job was created")
    settings = serializers.DictField(help_text="samples, temperature, top_p, max_new_tokens, seed")
    pairs = serializers.ChoiceField(choices=PAIRING)
    target_campaign = serializers.CharField()
    round_of = serializers.IntegerField(allow_null=True, help_text="the run whose next on-policy round this is")
    result = serializers.DictField(help_text="prompts, candidates and comparisons created")
