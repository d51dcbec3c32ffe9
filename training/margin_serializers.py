"""Margin job input and output for the API (and the page's form, which posts the same fields)."""

from __future__ import annotations

from rest_framework import serializers

from config.ids import MAX_ID
from training.serializers import ModelJobSerializer
from training.services.margin_jobs import margin_job_create


class MarginJobInput(serializers.Serializer):
    base_model = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="a registered base model's id")
    campaign = serializers.SlugField(max_length=100, help_text="the campaign whose pairs' answers are scored")

    def create_job(self, *, requested_by):
        """The job from validated input; MarginRejected (field → messages) when the service refuses it."""
        data = self.validated_data
        return margin_job_create(
            base_model_id=data["base_model"], campaign_slug=data["campaign"], requested_by=requested_by
        )


class MarginProgressSerializer(serializers.Serializer):
    answers_done = serializers.IntegerField()
    answers_total = serializers.IntegerField(help_text="answers this job scores (those not cached yet)")
    answers_cached = serializers.IntegerField(help_text="answers already scored under the model's digest")
    percent = serializers.IntegerField()


class NamedModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MarginJobSerializer(ModelJobSerializer):
    base_model = NamedModelSerializer()
    campaign = serializers.CharField()
    model_digest = serializers.CharField(
        allow_blank=True, help_text="the SHA-256 the answers are cached under (the export's reference_model_digest)"
    )
    progress = MarginProgressSerializer()
