"""Quality dashboard reads: one query pulls a campaign's judgments as arrays, numpy does the rest, the cache keeps it.

The report is cached per campaign under a key holding the campaign's latest judgment id and judgment count, so a new
(or deleted) judgment makes the next page view recompute it; until then a view costs a couple of small queries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, FloatField, Max, Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Concat, Length, Trim, TruncDate

from annotate.models import Campaign, Judgment, Outcome, ReviewerFlag
from annotate.quality_metrics import OUTCOMES, SECONDS_PER_DAY, STRENGTHS, Coded, JudgmentArrays, compute_quality

BOOTSTRAP_RESAMPLES = 1000
CACHE_SECONDS = 7 * 24 * 3600
REPORT_VERSION = 1  # bump when the report's shape changes, so stale cached reports are never read
CHUNK_ROWS = 50_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Judgment-level columns, read as plain values: the query is run on a raw cursor, so no per-value ORM converters.
_BASE_FIELDS = (
    "reviewer_id",
    "comparison_id",
    "outcome",
    "strength",
    "assignment__a_on_left",
    "time_taken_ms",
    "gold_correct",
    "comparison__prompt__locale__code",
)


class _Encoder:
    """Labels to dense integer codes; new labels get the next codes in sorted order, so runs are reproducible."""

    def __init__(self) -> None:
        self.codes: dict = {}

    def encode(self, values: Sequence) -> np.ndarray:
        for label in sorted(set(values) - self.codes.keys(), key=str):
            self.codes[label] = len(self.codes)
        return np.fromiter(map(self.codes.__getitem__, values), dtype=np.int64, count=len(values))

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.codes]

    def labels_raw(self) -> list:
        return list(self.codes)


def _epoch_days(dates: Sequence) -> np.ndarray:
    """Days since 1970-01-01 from date objects (PostgreSQL) or ISO strings (SQLite)."""
    if dates and isinstance(dates[0], date):
        return np.fromiter(map(date.toordinal, dates), dtype=np.int64, count=len(dates)) - _EPOCH_ORDINAL
    return np.array(dates, dtype="datetime64[D]").astype(np.int64)


def _judgment_rows(campaign: Campaign, criteria: list[str]) -> Iterator[list[tuple]]:
    """Batches of rows: _BASE_FIELDS, then day, tags, lengths, models, and (a, b) per criterion. One query."""
    expressions = [
        # The day is all the report needs, and a date converts far faster than a timestamp with a time zone.
        TruncDate("created_at", tzinfo=UTC),
        Cast("comparison__prompt__tags", TextField()),
        Length("comparison__candidate_a__text"),
        Length("comparison__candidate_b__text"),
        # "name version" built by the database: one string per side instead of two.
        Trim(Concat("comparison__candidate_a__model_name", Value(" "), "comparison__candidate_a__model_version")),
        Trim(Concat("comparison__candidate_b__model_name", Value(" "), "comparison__candidate_b__model_version")),
    ]
    for key in criteria:
        for side in ("a", "b"):
            expressions.append(Cast(KeyTextTransform(key, KeyTransform(side, "ratings")), FloatField()))
    queryset = (
        Judgment.objects.filter(comparison__campaign=campaign).order_by().values_list(*_BASE_FIELDS, *expressions)
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(CHUNK_ROWS):
            yield batch


def _tag_items(raw: str | None) -> list[tuple[str, str]]:
    value = json.loads(raw) if raw else {}
    items = value.items() if isinstance(value, dict) else []
    return [(str(key), item if isinstance(item, str) else json.dumps(item)) for key, item in items]


def campaign_arrays(*, campaign: Campaign) -> JudgmentArrays:
    """Every judgment of the campaign as compact arrays, read with one query. ``created_at`` has day resolution."""
    criteria = campaign.rubric.criterion_keys()
    outcome_code = {name: i for i, name in enumerate(OUTCOMES)}
    strength_code = {"": -1, None: -1} | {name: i for i, name in enumerate(STRENGTHS)}
    locales, models = _Encoder(), _Encoder()
    tag_values: dict[str, _Encoder] = {}
    raw_tags = _Encoder()
    columns: dict[str, list[np.ndarray]] = {}
    n_base = len(_BASE_FIELDS)
    for batch in _judgment_rows(campaign, criteria):
        fields = list(zip(*batch, strict=True))
        n = len(batch)
        chunk = {
            "reviewer": np.array(fields[0], dtype=np.int64),
            "comparison": np.array(fields[1], dtype=np.int64),
            "outcome": np.fromiter(map(outcome_code.__getitem__, fields[2]), dtype=np.int64, count=n),
            "strength": np.fromiter(map(strength_code.__getitem__, fields[3]), dtype=np.int64, count=n),
            "a_on_left": np.array(fields[4], dtype=bool),
            "time_ms": np.array(fields[5], dtype=np.int64),
            "gold_correct": np.array(fields[6], dtype=float),  # None → nan
            "locale": locales.encode(fields[7]),
            "created_at": _epoch_days(fields[n_base]) * float(SECONDS_PER_DAY),
            "length_a": np.array(fields[n_base + 2], dtype=np.int64),
            "length_b": np.array(fields[n_base + 3], dtype=np.int64),
            "model_a": models.encode(fields[n_base + 4]),
            "model_b": models.encode(fields[n_base + 5]),
        }
        for index in range(len(criteria)):
            a = np.array(fields[n_base + 6 + 2 * index], dtype=float)
            b = np.array(fields[n_base + 7 + 2 * index], dtype=float)
            chunk[f"rating_{index}"] = a - b
        for name, values in chunk.items():
            columns.setdefault(name, []).append(values)
        columns.setdefault("tags", []).append(raw_tags.encode(fields[n_base + 1]))

    def column(name: str, dtype=np.int64) -> np.ndarray:
        return np.concatenate(columns[name]) if name in columns else np.zeros(0, dtype=dtype)

    # Tags repeat across a prompt's judgments: parse each distinct JSON text once, then index by text code.
    tag_texts = raw_tags.labels_raw()
    per_text: dict[str, np.ndarray] = {}
    for text_code, raw in enumerate(tag_texts):
        for key, value in _tag_items(raw):
            if key not in per_text:
                per_text[key] = np.full(len(tag_texts), -1, dtype=np.int64)
                tag_values[key] = _Encoder()
            per_text[key][text_code] = tag_values[key].encode([value])[0]
    text_codes = column("tags")
    tags = {key: Coded(codes[text_codes], tag_values[key].labels) for key, codes in sorted(per_text.items())}
    return JudgmentArrays(
        reviewer=column("reviewer"),
        comparison=column("comparison"),
        outcome=column("outcome"),
        strength=column("strength"),
        a_on_left=column("a_on_left", bool),
        time_ms=column("time_ms"),
        created_at=column("created_at", float),
        gold_correct=column("gold_correct", float),
        locale=Coded(column("locale"), locales.labels),
        tags=tags,
        length_a=column("length_a"),
        length_b=column("length_b"),
        model_a=column("model_a"),
        model_b=column("model_b"),
        model_labels=models.labels,
        ratings={key: column(f"rating_{index}", float) for index, key in enumerate(criteria)},
    )


def _report_key(campaign: Campaign) -> str:
    stamp = Judgment.objects.filter(comparison__campaign=campaign).aggregate(last=Max("id"), count=Count("id"))
    return f"quality:v{REPORT_VERSION}:{campaign.pk}:{stamp['last'] or 0}:{stamp['count']}"


def compute_campaign_report(*, campaign: Campaign) -> dict:
    """The report without the cache: arrays → numbers, plus reviewer names (one more query)."""
    report = compute_quality(
        campaign_arrays(campaign=campaign), overlap=campaign.overlap, n_resamples=BOOTSTRAP_RESAMPLES
    )
    ids = {row["reviewer"] for row in report.get("reviewer_rows", [])}
    report["names"] = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return report


def campaign_report(*, campaign: Campaign) -> dict:
    """The campaign's quality report, from the cache unless a judgment arrived (or left) since it was computed."""
    key = _report_key(campaign)
    report = cache.get(key)
    if report is None:
        report = compute_campaign_report(campaign=campaign)
        cache.set(key, report, CACHE_SECONDS)
    return report


def flagged_reviewer_ids(*, campaign: Campaign) -> set[int]:
    """Reviewers with an active flag for this campaign or for every campaign (not cached: flags change any time)."""
    flags = ReviewerFlag.objects.filter(Q(campaign=campaign) | Q(campaign__isnull=True), active=True)
    return set(flags.values_list("reviewer_id", flat=True))


@dataclass(frozen=True)
class RecentJudgment:
    judgment: Judgment
    majority: str | None  # plurality outcome of the other reviewers; None when they are split or absent
    others: int

    @property
    def majority_label(self) -> str:
        return Outcome(self.majority).label if self.majority else ""

    @property
    def agrees(self) -> bool | None:
        return None if self.majority is None else self.judgment.outcome == self.majority


def recent_judgments_with_majority(*, campaign: Campaign, reviewer_id: int, limit: int = 50) -> list[RecentJudgment]:
    """The reviewer's latest judgments, each beside the leave-one-out majority of its comparison (two queries)."""
    judgments = list(
        Judgment.objects.filter(comparison__campaign=campaign, reviewer_id=reviewer_id)
        .select_related("comparison__prompt", "assignment")
        .order_by("-created_at", "-id")[:limit]
    )
    others: dict[int, Counter] = {}
    answered = [o for o in OUTCOMES if o != "escalate"]
    rows = (
        Judgment.objects.filter(comparison_id__in={j.comparison_id for j in judgments}, outcome__in=answered)
        .exclude(reviewer_id=reviewer_id)
        .values_list("comparison_id", "outcome")
    )
    for comparison_id, outcome in rows:
        others.setdefault(comparison_id, Counter())[outcome] += 1
    result = []
    for judgment in judgments:
        counts = others.get(judgment.comparison_id, Counter())
        ranked = counts.most_common(2)
        unique_top = bool(ranked) and (len(ranked) == 1 or ranked[0][1] > ranked[1][1])
        result.append(RecentJudgment(judgment, ranked[0][0] if unique_top else None, sum(counts.values())))
    return result
