"""Quality dashboard reads: one query pulls a campaign's judgments as arrays, numpy does the rest, the cache keeps it.

The report is cached per campaign under a key holding the campaign's latest judgment id and judgment count, so a new
(or deleted) judgment makes the next page view recompute it; until then a view costs a couple of small queries.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, FloatField, Max, Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Concat, Length

from annotate.models import Campaign, Judgment, ReviewerFlag
from annotate.quality_metrics import OUTCOMES, STRENGTHS, Coded, JudgmentArrays, compute_quality

BOOTSTRAP_RESAMPLES = 1000
CACHE_SECONDS = 7 * 24 * 3600
REPORT_VERSION = 1  # bump when the report's shape changes, so stale cached reports are never read
CHUNK_ROWS = 50_000

_BASE_FIELDS = (
    "reviewer_id",
    "comparison_id",
    "outcome",
    "strength",
    "assignment__a_on_left",
    "time_taken_ms",
    "created_at",
    "gold_correct",
    "comparison__prompt__locale__code",
)


class _Encoder:
    """Labels to dense integer codes, in first-seen order."""

    def __init__(self) -> None:
        self.codes = {}

    def __call__(self, label) -> int:
        return self.codes.setdefault(label, len(self.codes))

    @property
    def labels(self) -> list[str]:
        return [str(label) for label in self.codes]


def _judgment_rows(campaign: Campaign, criteria: list[str]):
    expressions = {
        "tags": Cast("comparison__prompt__tags", TextField()),
        "length_a": Length("comparison__candidate_a__text"),
        "length_b": Length("comparison__candidate_b__text"),
        # "name version" built by the database: one string per side instead of two.
        "model_a": Concat("comparison__candidate_a__model_name", Value(" "), "comparison__candidate_a__model_version"),
        "model_b": Concat("comparison__candidate_b__model_name", Value(" "), "comparison__candidate_b__model_version"),
    }
    for index, key in enumerate(criteria):
        for side in ("a", "b"):
            rating = KeyTextTransform(key, KeyTransform(side, "ratings"))
            expressions[f"rating_{side}_{index}"] = Cast(rating, FloatField())
    return (
        Judgment.objects.filter(comparison__campaign=campaign)
        .order_by()
        .values_list(*_BASE_FIELDS, *expressions.values())
        .iterator(chunk_size=CHUNK_ROWS)
    )


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _tag_items(raw: str | None, parsed: dict[str | None, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    # Tags repeat across a prompt's judgments: parse each distinct JSON text once.
    if raw not in parsed:
        value = json.loads(raw) if raw else {}
        items = value.items() if isinstance(value, dict) else []
        parsed[raw] = [(str(key), item if isinstance(item, str) else json.dumps(item)) for key, item in items]
    return parsed[raw]


def campaign_arrays(*, campaign: Campaign) -> JudgmentArrays:
    """Every judgment of the campaign as compact arrays, read with one query (streamed in chunks)."""
    criteria = campaign.rubric.criterion_keys()
    outcome_code = {name: i for i, name in enumerate(OUTCOMES)}
    strength_code = {name: i for i, name in enumerate(STRENGTHS)}
    locales, models = _Encoder(), _Encoder()
    tag_values: dict[str, _Encoder] = {}
    parsed_tags: dict[str | None, list[tuple[str, str]]] = {}
    columns: dict[str, list[np.ndarray]] = {}
    tag_rows: list[list[tuple[str, str]]] = []
    n_base = len(_BASE_FIELDS)
    for batch in _batches(_judgment_rows(campaign, criteria), CHUNK_ROWS):
        fields = list(zip(*batch, strict=True))
        chunk = {
            "reviewer": np.array(fields[0], dtype=np.int64),
            "comparison": np.array(fields[1], dtype=np.int64),
            "outcome": np.array([outcome_code[o] for o in fields[2]], dtype=np.int64),
            "strength": np.array([strength_code.get(s, -1) for s in fields[3]], dtype=np.int64),
            "a_on_left": np.array(fields[4], dtype=bool),
            "time_ms": np.array(fields[5], dtype=np.int64),
            "created_at": np.array([moment.timestamp() for moment in fields[6]], dtype=float),
            "gold_correct": np.array([np.nan if g is None else float(g) for g in fields[7]], dtype=float),
            "locale": np.array([locales(code) for code in fields[8]], dtype=np.int64),
            "length_a": np.array(fields[n_base + 1], dtype=np.int64),
            "length_b": np.array(fields[n_base + 2], dtype=np.int64),
            "model_a": np.array([models(label.strip()) for label in fields[n_base + 3]], dtype=np.int64),
            "model_b": np.array([models(label.strip()) for label in fields[n_base + 4]], dtype=np.int64),
        }
        for index in range(len(criteria)):
            a = np.array(fields[n_base + 5 + 2 * index], dtype=float)
            b = np.array(fields[n_base + 6 + 2 * index], dtype=float)
            chunk[f"rating_{index}"] = a - b
        for name, values in chunk.items():
            columns.setdefault(name, []).append(values)
        tag_rows.extend(_tag_items(raw, parsed_tags) for raw in fields[n_base])

    def column(name: str, dtype=np.int64) -> np.ndarray:
        return np.concatenate(columns[name]) if name in columns else np.zeros(0, dtype=dtype)

    tags: dict[str, np.ndarray] = {}
    for row, items in enumerate(tag_rows):
        for key, value in items:
            if key not in tags:
                tags[key] = np.full(len(tag_rows), -1, dtype=np.int64)
                tag_values[key] = _Encoder()
            tags[key][row] = tag_values[key](value)
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
        tags={key: Coded(codes, tag_values[key].labels) for key, codes in tags.items()},
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
