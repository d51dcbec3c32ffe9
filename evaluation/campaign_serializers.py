"""Input checks and documented shapes of the evaluation-campaign API. Types and sizes are checked here; whether the
run, baseline and prompts make an evaluation is the service's (EvaluationRejected, field → messages)."""

from __future__ import annotations

from rest_framework import serializers

from config.api import IdField
from evaluation.services import DEFAULT_SETTINGS, MAX_OVERLAP, TEST_SPLIT
from training.models import JobStatus

SETTING_NAMES = tuple(DEFAULT_SETTINGS)


class EvaluationInput(serializers.Serializer):
    """Also the page's form: numbers may arrive as text there."""

    run = IdField(help_text="the succeeded run to evaluate")
    baseline = serializers.CharField(max_length=40, help_text="base:ID (a registered model) or run:ID (another run)")
    overlap = serializers.IntegerField(min_value=1, max_value=MAX_OVERLAP, default=1, help_text="judgments per pair")
    prompts = serializers.CharField(
        max_length=100,
        default=TEST_SPLIT,
        help_text=f"{TEST_SPLIT} (the run's snapshot's test split) or a campaign slug whose prompts become protected",
    )
    samples = serializers.IntegerField(min_value=1, max_value=16, default=DEFAULT_SETTINGS["samples"])
    temperature = serializers.FloatField(min_value=0.0, max_value=5.0, default=DEFAULT_SETTINGS["temperature"])
    top_p = serializers.FloatField(min_value=0.01, max_value=1.0, default=DEFAULT_SETTINGS["top_p"])
    max_new_tokens = serializers.IntegerField(min_value=1, max_value=4096, default=DEFAULT_SETTINGS["max_new_tokens"])
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=DEFAULT_SETTINGS["seed"])

    def settings_values(self) -> dict:
        return {name: self.validated_data[name] for name in SETTING_NAMES}


class ModelRefSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="the candidates' model name")
    version = serializers.CharField(allow_blank=True, help_text="the candidates' model version")


class EvaluationJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    percent = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)


class RubricRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.IntegerField()


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    run = serializers.IntegerField()
    campaign = serializers.CharField(help_text="the evaluation campaign reviewers judge in")
    baseline = serializers.CharField(help_text="base:ID or run:ID")
    run_model = ModelRefSerializer()
    baseline_model = ModelRefSerializer()
    overlap = serializers.IntegerField()
    locales = serializers.ListField(child=serializers.CharField())
    rubric = RubricRefSerializer()
    generation_settings = serializers.DictField(help_text="the same for both models")
    generation_job = EvaluationJobSerializer(allow_null=True)
    pairs = serializers.IntegerField()
    judgments = serializers.IntegerField()
    judgments_wanted = serializers.IntegerField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
