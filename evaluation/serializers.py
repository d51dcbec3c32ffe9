"""The evaluation API's query checks and documented shapes."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from rest_framework import serializers

from annotate.sources import DEFAULT_FILTER, SOURCE_FILTERS
from evaluation.leaderboard import Leaderboard

SLUG_LIST = r"^[-a-zA-Z0-9_]+(,[-a-zA-Z0-9_]+)*\Z"


class LeaderboardQuerySerializer(serializers.Serializer):
    campaigns = serializers.RegexField(
        SLUG_LIST,
        max_length=2000,
        help_text="campaign slugs separated by commas",
        error_messages={"invalid": "give campaign slugs separated by commas, e.g. campaigns=a,b"},
    )
    source = serializers.ChoiceField(choices=list(SOURCE_FILTERS), default=DEFAULT_FILTER)
    baseline = serializers.CharField(
        required=False, default="", max_length=401, help_text="a model, or name@version when it has several versions"
    )
    locale = serializers.CharField(required=False, default="", max_length=35, help_text="only prompts of this locale")
    tag = serializers.CharField(
        required=False, default="", max_length=200, help_text="only prompts with this tag: key or key=value"
    )

    def validate_campaigns(self, value: str) -> list[str]:
        slugs = list(dict.fromkeys(value.split(",")))
        if len(slugs) > 50:
            raise serializers.ValidationError(f"at most 50 campaigns at once, got {len(slugs)}")
        return slugs


class Pair(serializers.ListField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.FloatField(), min_length=2, max_length=2, **kwargs)


class LeaderboardModelSerializer(serializers.Serializer):
    model = serializers.CharField(allow_blank=True)
    version = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(help_text="Bradley–Terry strength; the scores sum to 1")
    rating = serializers.FloatField(help_text="Elo scale: the baseline at 1000 (without one, their mean)")
    rating_ci = Pair(help_text="95% bootstrap interval over prompts")
    win_rate = serializers.FloatField(
        allow_null=True, help_text="against the baseline, ties half, both-bad apart; null: no baseline or never met"
    )
    win_rate_ci = Pair(allow_null=True)
    judgments = serializers.IntegerField(help_text="rated judgments of this model (both-bad ones apart)")
    wins = serializers.IntegerField(help_text="against the baseline")
    losses = serializers.IntegerField()
    ties = serializers.IntegerField()
    both_bad = serializers.IntegerField()
    judgments_to_separate_next = serializers.IntegerField(
        allow_null=True,
        help_text="when the rating interval overlaps the next model's: about how many more judgments, in all, would"
        " separate them",
    )
    judgments_to_separate = serializers.IntegerField(
        allow_null=True, help_text="when the win-rate interval holds 0.5: about how many more would exclude it"
    )


class MatrixSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.CharField(allow_blank=True))
    rates = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="rates[i][j]: win rate of models[i] over models[j]; null where they never met",
    )
    counts = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class LeaderboardSerializer(serializers.Serializer):
    campaigns = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()
    baseline = serializers.CharField(allow_null=True)
    locale = serializers.CharField(allow_blank=True)
    tag = serializers.CharField(allow_blank=True)
    models = LeaderboardModelSerializer(many=True)
    matrix = MatrixSerializer()
    judgments = serializers.IntegerField()
    both_bad = serializers.IntegerField()
    identical_ties = serializers.IntegerField(help_text="ties by construction: two models gave the same answer")
    open_escalations = serializers.IntegerField(help_text="escalated judgments no lead has resolved (not counted)")
    flagged_judgments = serializers.IntegerField(
        help_text="judgments of reviewers a lead flagged: left out, as exports leave them out"
    )
    locales = serializers.ListField(child=serializers.CharField(), help_text="the locales one may filter on")
    tags = serializers.ListField(child=serializers.CharField(), help_text="the tags one may filter on")
    note = serializers.CharField(allow_blank=True)


def _plain(value: Any) -> Any:
    """JSON has no NaN nor tuples."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def leaderboard_data(board: Leaderboard) -> dict[str, Any]:
    return _plain(asdict(board))
