"""Judge-job API shapes: input checked for types and sizes here; whether the model and campaign make a job is the
service's (JudgeRejected, field → messages)."""

from __future__ import annotations

from rest_framework import serializers

from training.serializers import ModelJobSerializer, PinnedModelSerializer
from training.services.judge_jobs import MAX_LIMIT, judge_job_create


class JudgeJobInput(serializers.Serializer):
    model = serializers.CharField(max_length=40, help_text="base:ID (a registered model) or run:ID (a run's adapter)")
    campaign = serializers.SlugField(max_length=100)
    limit = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_LIMIT, help_text="first N pairs"
    )

    def create_job(self, *, requested_by):
        data = self.validated_data
        return judge_job_create(
            model=data["model"], campaign=data["campaign"], limit=data["limit"], requested_by=requested_by
        )


class JudgeIdentitySerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.CharField(allow_blank=True)
    prompt_sha256 = serializers.CharField(help_text="digest of the judge prompt template")


class JudgeProgressSerializer(serializers.Serializer):
    pairs_done = serializers.IntegerField()
    pairs_total = serializers.IntegerField()
    percent = serializers.IntegerField()


class JudgeCountsSerializer(serializers.Serializer):
    judged = serializers.IntegerField(help_text="pairs with a verdict in both orders, stored as AI judgments")
    flips = serializers.IntegerField(help_text="judged pairs whose verdict changed with the order (stored as tie)")
    unparseable = serializers.IntegerField(help_text="pairs with an answer out of format (no judgment)")
    skipped = serializers.IntegerField(help_text="pairs this judge had already judged")
    position_consistency = serializers.FloatField(allow_null=True, help_text="1 - flips / judged")
    unparseable_share = serializers.FloatField(allow_null=True, help_text="unparseable / (judged + unparseable)")


class JudgeAgreementSerializer(serializers.Serializer):
    judgments = serializers.IntegerField(help_text="the judge's judgments in the campaign")
    position_consistency = serializers.FloatField(allow_null=True)
    flips = serializers.IntegerField()
    with_majority = serializers.IntegerField(help_text="judged pairs that have a human majority")
    accuracy = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa against the human majority")
    tie_share = serializers.FloatField(allow_null=True)
    labels = serializers.ListField(child=serializers.CharField())
    confusion = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()), help_text="rows: judge; columns: majority"
    )


class JudgeJobSerializer(ModelJobSerializer):
    model = PinnedModelSerializer(help_text="the judging model, pinned when the job was created")
    judge = JudgeIdentitySerializer()
    campaign = serializers.CharField()
    limit = serializers.IntegerField(allow_null=True)
    progress = JudgeProgressSerializer()
    counts = JudgeCountsSerializer()
    result = serializers.DictField(help_text="unparseable_answers: the first unparseable answers, as given")


class JudgeJobDetailSerializer(JudgeJobSerializer):
    agreement = JudgeAgreementSerializer(allow_null=True, help_text="the judge against the human majority")
