"""The annotate API's input checks and documented shapes. Inputs are checked here for type and size; the rules that
need the database (rubric criteria, leases, campaign state) stay in the services, whose errors come back in the same
body (config.api)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotate.export_difficulty import KNOBS
from annotate.export_policy import MAX_MIN_JUDGMENTS, MAX_SEED, WEIGHT_MODES, WEIGHTINGS, ExportPolicy, PolicyError
from annotate.models import ExportJob, Strength
from annotate.services.importing import PAIRING_MODES
from annotate.services.judging import CHOICES, CRITIQUE_MAX_LENGTH, MAX_TIME_TAKEN_MS
from annotate.sources import SOURCE_FILTERS
from config.api import TextField, WholeNumberField

# ---- reviewing ----


class RatingsField(serializers.DictField):
    """{"left": {criterion: points}, "right": {...}}; which criteria and scales apply is the rubric's (service)."""

    def __init__(self, **kwargs) -> None:
        side = serializers.DictField(child=WholeNumberField(allow_null=True))
        super().__init__(child=side, allow_empty=True, **kwargs)


class JudgmentInputSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=CHOICES)
    strength = serializers.ChoiceField(
        choices=Strength.values, required=False, allow_blank=True, allow_null=True, help_text="needed for left/right"
    )
    ratings = RatingsField(required=False, allow_null=True)
    critique = TextField(
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        max_length=CRITIQUE_MAX_LENGTH,
        help_text="needed for both_bad and escalate",
    )
    time_taken_ms = WholeNumberField(required=False, min_value=0, max_value=MAX_TIME_TAKEN_MS, default=0)


class JudgmentSerializer(serializers.Serializer):
    judgment = serializers.IntegerField()
    assignment = serializers.IntegerField()
    choice = serializers.ChoiceField(choices=CHOICES)
    strength = serializers.CharField(allow_blank=True)
    critique = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class CandidateRefField(serializers.Field):
    """A side's candidate reference as the reviewer sees it: opaque, to be echoed back, never interpreted."""


class SideSerializer(serializers.Serializer):
    id = CandidateRefField()
    text = serializers.CharField(allow_blank=True)


class MessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)


class PromptSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    messages = MessageSerializer(many=True, allow_null=True)


class RubricSerializer(serializers.Serializer):
    slug = serializers.CharField()
    version = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    guidelines = serializers.CharField(allow_blank=True)
    criteria = serializers.ListField(child=serializers.DictField(), help_text="key, label, scale, required")


class PairSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    prompt = PromptSerializer()
    left = SideSerializer()
    right = SideSerializer()
    rubric = RubricSerializer()
    expires_at = serializers.DateTimeField()


# ---- exports ----

POLICY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "Export knobs; absent ones take their default. Checked by annotate.export_policy.ExportPolicy.",
    "properties": {
        "min_judgments": {"type": "integer", "minimum": 1, "maximum": MAX_MIN_JUDGMENTS, "nullable": True},
        "min_agreement": {"type": "number", "minimum": 0, "maximum": 1, "default": ExportPolicy.min_agreement},
        "weighting": {"type": "string", "enum": list(WEIGHTINGS), "default": ExportPolicy.weighting},
        "weight": {"type": "string", "enum": list(WEIGHT_MODES), "default": ExportPolicy.weight},
        "test_share": {"type": "number", "minimum": 0, "exclusiveMaximum": True, "maximum": 1},
        "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED, "default": ExportPolicy.seed},
        "source": {
            "type": "string",
            "enum": list(SOURCE_FILTERS),
            "default": ExportPolicy.source,
            "description": "whose judgments count: "
            + "; ".join(f"{name}: {', '.join(sources)}" for name, sources in SOURCE_FILTERS.items()),
        },
        "include_evaluation": {"type": "boolean", "default": ExportPolicy.include_evaluation},
        **{name: knob.json_schema() for name, knob in KNOBS.items()},
    },
}


@extend_schema_field(POLICY_SCHEMA)
class PolicyField(serializers.DictField):
    """An object of export knobs, turned into an ExportPolicy by its own checks (shared with the page and command)."""

    def to_internal_value(self, data) -> ExportPolicy:
        data = super().to_internal_value(data)
        try:
            return ExportPolicy.from_dict(data)
        except PolicyError as exc:
            field, _, problem = str(exc).partition(": ")
            raise serializers.ValidationError({field: [problem]}) from None

    def to_representation(self, value):
        return value.to_dict() if isinstance(value, ExportPolicy) else value


class ExportRequestSerializer(serializers.Serializer):
    campaigns = serializers.ListField(child=TextField(max_length=100), allow_empty=False, max_length=100)
    policy = PolicyField(required=False, help_text="absent: every default")


class ExportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExportJob.Status.values)
    status_url = serializers.URLField()
    pairs_done = serializers.IntegerField()
    total_pairs = serializers.IntegerField()
    error = serializers.CharField(allow_null=True)
    snapshot_id = serializers.IntegerField(allow_null=True)
    snapshot_url = serializers.URLField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class SnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    campaigns = serializers.ListField(child=serializers.CharField())
    policy = serializers.DictField()
    counts = serializers.DictField()
    manifest_sha256 = serializers.CharField(allow_blank=True)
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    files = serializers.DictField(child=serializers.URLField(), help_text="file name → download URL")


class SnapshotListSerializer(serializers.Serializer):
    snapshots = SnapshotSerializer(many=True)


class SnapshotDetailSerializer(SnapshotSerializer):
    manifest = serializers.DictField()


class SnapshotCreatedSerializer(SnapshotSerializer):
    job = ExportJobSerializer()


# ---- imports ----


class ImportQuerySerializer(serializers.Serializer):
    pairs = serializers.ChoiceField(choices=PAIRING_MODES, default="all")
    locale = serializers.CharField(required=False, max_length=35, help_text="for rows that name no locale")
    allow_empty = serializers.BooleanField(default=False, help_text="keep candidates with an empty text")
    allow_identical = serializers.BooleanField(default=False, help_text="keep pairs whose two texts are the same")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JSONL, one prompt per line; at most IMPORT_MAX_BYTES")


class ImportResultSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    prompts_created = serializers.IntegerField()
    candidates_created = serializers.IntegerField()
    comparisons_created = serializers.IntegerField()
