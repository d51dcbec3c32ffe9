"""Input checks for generation jobs, shared by the API and the Generate page: types and ranges here, the rest
(models that exist, prompts that match) in the service."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from training.services.generation import PAIRING, generation_job_create

SETTING_NAMES = ("samples", "temperature", "top_p", "max_new_tokens", "seed")


class GenerationJobInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    models = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=8)
    source_campaign = serializers.SlugField(max_length=100, required=False, allow_blank=True, default="")
    locale = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    tag = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    prompts_file = serializers.FileField(required=False, allow_null=True, default=None)
    round_of = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
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
