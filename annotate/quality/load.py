"""A campaign's judgments as compact numpy arrays, for the quality report.

PostgreSQL, in one repeatable-read transaction: two ``COPY … (FORMAT binary)`` reads of numbers only, parsed by
``np.frombuffer`` with no Python work per row — judgments (ids, outcome and strength codes, day, rating differences)
and the campaign's comparisons (locale, tag-text and model codes, lengths). The strings (locales, tag texts, model
names) are read once each, distinct, from a temporary table of the campaign's comparisons, and turned into codes
inside the database. Other databases read the same columns through one ORM query on a raw cursor. Both give the same
arrays; labels are in sorted order and hold only the values some judgment uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date

import numpy as np
from django.db import connection
from django.db.models import FloatField, TextField, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Concat, Length, Trim, TruncDate

from annotate.db import repeatable_read
from annotate.models import Campaign, Judgment
from annotate.quality.arrays import SECONDS_PER_DAY, Coded, JudgmentArrays
from annotate.quality.codes import OUTCOME_CODE, OUTCOMES, STRENGTH_CODE, STRENGTHS, sql_case
from annotate.sources import HUMAN_SOURCES

CHUNK_ROWS = 50_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_COPY_HEADER = 19  # PGCOPY signature (11 bytes), flags (4), header extension length (4, always 0 here)
_COPY_TRAILER = 2  # field count -1


def campaign_arrays(*, campaign: Campaign, sources: Sequence[str] = HUMAN_SOURCES) -> JudgmentArrays:
    """The campaign's judgments from these sources (annotate/sources.py; humans by default) as compact arrays.
    ``created_at`` has day resolution."""
    if connection.vendor == "postgresql":
        with repeatable_read():  # the temporary table lives until the transaction ends: there must be one
            return _postgresql_arrays(campaign, sources)
    return _generic_arrays(campaign, sources)


def _tags(texts: Sequence[str | None], text_codes: np.ndarray) -> dict[str, Coded]:
    """Per tag key, codes per judgment. Tags repeat across a prompt's judgments: each distinct JSON text is parsed
    once (``texts``, in sorted order), then indexed by the judgments' text codes."""
    per_text: dict[str, np.ndarray] = {}
    values: dict[str, dict[str, int]] = {}
    for text_code, raw in enumerate(texts):
        parsed = json.loads(raw) if raw else {}
        for key, item in parsed.items() if isinstance(parsed, dict) else []:
            key, value = str(key), item if isinstance(item, str) else json.dumps(item)
            if key not in per_text:
                per_text[key] = np.full(len(texts), -1, dtype=np.int64)
                values[key] = {}
            per_text[key][text_code] = values[key].setdefault(value, len(values[key]))
    return {key: Coded(codes[text_codes], list(values[key])) for key, codes in sorted(per_text.items())}


def _used(codes: np.ndarray, labels: Sequence) -> tuple[np.ndarray, list]:
    """Keep the labels some judgment uses (still in order) and renumber the codes densely."""
    used, dense = np.unique(codes, return_inverse=True)
    return dense.astype(np.int64), [labels[code] for code in used]


# --- PostgreSQL: binary COPY ------------------------------------------------------------------------------------

# The campaign's comparisons with their strings, gathered once into a temporary table: distinct labels and the coded
# rows are then two cheap reads of it instead of two more passes over prompts and candidates.
_GATHER_SQL = """
CREATE TEMPORARY TABLE quality_comparison ON COMMIT DROP AS
SELECT comparison.id, prompt.locale_id, prompt.tags::text AS tags, length(a.text) AS length_a,
       length(b.text) AS length_b, trim(a.model_name || ' ' || a.model_version) AS model_a,
       trim(b.model_name || ' ' || b.model_version) AS model_b
FROM annotate_comparison AS comparison
JOIN annotate_prompt AS prompt ON prompt.id = comparison.prompt_id
JOIN annotate_candidate AS a ON a.id = comparison.candidate_a_id
JOIN annotate_candidate AS b ON b.id = comparison.candidate_b_id
WHERE comparison.campaign_id = %(c)s
"""
_LABELS_SQL = """
SELECT 'locale', code FROM annotate_locale WHERE id IN (SELECT locale_id FROM quality_comparison)
UNION SELECT 'tags', tags FROM quality_comparison
UNION SELECT 'model', model_a FROM quality_comparison
UNION SELECT 'model', model_b FROM quality_comparison
"""
# Codes are 1-based positions in the sorted label lists.
_COMPARISONS_SQL = """
SELECT comparison.id::int8, locale.code::int4, tag.code::int4, comparison.length_a::int4,
       comparison.length_b::int4, model_a.code::int4, model_b.code::int4
FROM quality_comparison AS comparison
JOIN annotate_locale ON annotate_locale.id = comparison.locale_id
JOIN unnest(%(locales)s::text[]) WITH ORDINALITY AS locale(label, code) ON locale.label = annotate_locale.code
JOIN unnest(%(tags)s::text[]) WITH ORDINALITY AS tag(label, code) ON tag.label = comparison.tags
JOIN unnest(%(models)s::text[]) WITH ORDINALITY AS model_a(label, code) ON model_a.label = comparison.model_a
JOIN unnest(%(models)s::text[]) WITH ORDINALITY AS model_b(label, code) ON model_b.label = comparison.model_b
ORDER BY comparison.id
"""
_COMPARISON_TYPES = ("i8", "i4", "i4", "i4", "i4", "i4", "i4")


def _judgments_sql(criteria: list[str]) -> tuple[str, dict, tuple[str, ...]]:
    columns = [
        "judgment.reviewer_id::int8",
        "judgment.comparison_id::int8",
        f"{sql_case('judgment.outcome', OUTCOMES)}::int2",
        f"{sql_case('judgment.strength', STRENGTHS)}::int2",
        "assignment.a_on_left::int4::int2",
        "judgment.time_taken_ms::int8",
        "coalesce(judgment.gold_correct::int4, -1)::int2",
        "coalesce(judgment.order_consistent::int4, -1)::int2",
        # The day is all the report needs (UTC), as in the generic path's TruncDate; date arithmetic is far
        # cheaper than extract(epoch …), which returns numeric.
        "((judgment.created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01')::int4",
    ]
    params: dict = {}
    for index, key in enumerate(criteria):
        params[f"a{index}"], params[f"b{index}"] = ["a", key], ["b", key]
        columns.append(
            f"coalesce((judgment.ratings #>> %(a{index})s::text[])::float8"
            f" - (judgment.ratings #>> %(b{index})s::text[])::float8, 'NaN')"
        )
    sql = f"""
SELECT {", ".join(columns)}
FROM annotate_judgment AS judgment
JOIN annotate_comparison AS comparison ON comparison.id = judgment.comparison_id
JOIN annotate_assignment AS assignment ON assignment.id = judgment.assignment_id
WHERE comparison.campaign_id = %(c)s AND judgment.source = ANY(%(sources)s)
"""
    return sql, params, ("i8", "i8", "i2", "i2", "i2", "i8", "i2", "i2", "i4") + ("f8",) * len(criteria)


def _copy_columns(cursor, sql: str, params: dict, types: Sequence[str]) -> list[np.ndarray]:
    """Run ``sql`` as a binary COPY and split it into one array per column (native byte order).

    Every row has the same layout because no column is NULL: int16 field count, then per field an int32 length and
    the big-endian value. ``np.frombuffer`` reads that as a structured array without touching rows in Python.
    """
    buffer = bytearray()
    with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", params) as copy:
        for block in copy:
            buffer += block
    fields = [("count", ">i2")]
    for index, kind in enumerate(types):
        fields += [(f"length{index}", ">i4"), (f"value{index}", f">{kind}")]
    row = np.dtype(fields)
    size = len(buffer) - _COPY_HEADER - _COPY_TRAILER
    if size < 0 or size % row.itemsize:
        raise RuntimeError(f"unexpected COPY layout: {len(buffer)} bytes for rows of {row.itemsize}")
    rows = np.frombuffer(buffer, dtype=row, offset=_COPY_HEADER, count=size // row.itemsize)
    if len(rows) and (rows["count"] != len(types)).any():
        raise RuntimeError("unexpected COPY layout: field count differs")
    return [rows[f"value{index}"].astype(np.dtype(kind).newbyteorder("=")) for index, kind in enumerate(types)]


def _postgresql_arrays(campaign: Campaign, sources: Sequence[str]) -> JudgmentArrays:
    criteria = campaign.rubric.criterion_keys()
    sql, params, types = _judgments_sql(criteria)
    labels: dict[str, list[str]] = {"locale": [], "tags": [], "model": []}
    with connection.cursor() as wrapper:
        # The judgments ⋈ assignments hash join spills to disk at the default 4 MB.
        wrapper.execute("SET LOCAL work_mem = '64MB'")
        cursor = wrapper.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        judgment = _copy_columns(cursor, sql, {"c": campaign.pk, "sources": list(sources), **params}, types)
        # Inside a test's transaction ON COMMIT DROP comes late: drop any table left by an earlier call.
        wrapper.execute("DROP TABLE IF EXISTS pg_temp.quality_comparison")
        wrapper.execute(_GATHER_SQL, {"c": campaign.pk})
        wrapper.execute(_LABELS_SQL)
        for kind, label in wrapper.fetchall():
            labels[kind].append(label)
        for values in labels.values():
            values.sort()
        comparison = _copy_columns(
            cursor,
            _COMPARISONS_SQL,
            {"locales": labels["locale"], "tags": labels["tags"], "models": labels["model"]},
            _COMPARISON_TYPES,
        )
        wrapper.execute("DROP TABLE pg_temp.quality_comparison")
    reviewer, comparison_id, outcome, strength, a_on_left, time_ms, gold, consistent, day, *ratings = judgment
    # Each judgment's comparison row: comparison ids come sorted.
    row = np.searchsorted(comparison[0], comparison_id)
    locale, locales = _used(comparison[1][row] - 1, labels["locale"])
    text_codes, texts = _used(comparison[2][row] - 1, labels["tags"])
    n = len(outcome)
    model_codes, models = _used(np.concatenate([comparison[5][row], comparison[6][row]]) - 1, labels["model"])
    return JudgmentArrays(
        reviewer=reviewer,
        comparison=comparison_id,
        outcome=outcome.astype(np.int64),
        strength=strength.astype(np.int64),
        a_on_left=a_on_left.astype(bool),
        time_ms=time_ms,
        created_at=day.astype(np.int64) * float(SECONDS_PER_DAY),
        gold_correct=np.where(gold < 0, np.nan, gold.astype(float)),
        order_consistent=np.where(consistent < 0, np.nan, consistent.astype(float)),
        locale=Coded(locale, locales),
        tags=_tags(texts, text_codes),
        length_a=comparison[3][row].astype(np.int64),
        length_b=comparison[4][row].astype(np.int64),
        model_a=model_codes[:n],
        model_b=model_codes[n:],
        model_labels=models,
        ratings=dict(zip(criteria, ratings, strict=True)),
    )


# --- other databases: one ORM query on a raw cursor -------------------------------------------------------------

# Judgment-level columns, read as plain values: the query is run on a raw cursor, so no per-value ORM converters.
_BASE_FIELDS = (
    "reviewer_id",
    "comparison_id",
    "outcome",
    "strength",
    "assignment__a_on_left",
    "time_taken_ms",
    "gold_correct",
    "order_consistent",
    "comparison__prompt__locale__code",
)


def _epoch_days(dates: Sequence) -> np.ndarray:
    """Days since 1970-01-01 from date objects or ISO strings (SQLite)."""
    if dates and isinstance(dates[0], date):
        return np.fromiter(map(date.toordinal, dates), dtype=np.int64, count=len(dates)) - _EPOCH_ORDINAL
    return np.array(dates, dtype="datetime64[D]").astype(np.int64)


def _judgment_rows(campaign: Campaign, criteria: list[str], sources: Sequence[str]) -> Iterator[list[tuple]]:
    """Batches of rows: _BASE_FIELDS, then day, tags, lengths, models, and (a, b) per criterion. One query."""
    expressions = [
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
        Judgment.objects.filter(comparison__campaign=campaign, source__in=sources)
        .order_by()
        .values_list(*_BASE_FIELDS, *expressions)
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(CHUNK_ROWS):
            yield batch


class _Labels:
    """Labels to integer codes in order of first appearance; ``_used`` later sorts and compacts them."""

    def __init__(self) -> None:
        self.codes: dict = {}

    def encode(self, values: Sequence) -> np.ndarray:
        codes = self.codes
        for label in set(values) - codes.keys():
            codes[label] = len(codes)
        return np.fromiter(map(codes.__getitem__, values), dtype=np.int64, count=len(values))

    def sorted(self, codes: np.ndarray) -> tuple[np.ndarray, list]:
        """Codes renumbered so that labels come in sorted order (only labels in use)."""
        order = sorted(self.codes, key=str)
        rank = np.empty(len(order), dtype=np.int64)
        rank[[self.codes[label] for label in order]] = np.arange(len(order))
        return _used(rank[codes] if len(codes) else codes, order)


def _generic_arrays(campaign: Campaign, sources: Sequence[str] = HUMAN_SOURCES) -> JudgmentArrays:
    criteria = campaign.rubric.criterion_keys()
    locales, models, tag_texts = _Labels(), _Labels(), _Labels()
    columns: dict[str, list[np.ndarray]] = {}
    n_base = len(_BASE_FIELDS)
    for batch in _judgment_rows(campaign, criteria, sources):
        fields = list(zip(*batch, strict=True))
        n = len(batch)
        chunk = {
            "reviewer": np.array(fields[0], dtype=np.int64),
            "comparison": np.array(fields[1], dtype=np.int64),
            "outcome": np.fromiter(map(OUTCOME_CODE.__getitem__, fields[2]), dtype=np.int64, count=n),
            "strength": np.fromiter(map(STRENGTH_CODE.__getitem__, fields[3]), dtype=np.int64, count=n),
            "a_on_left": np.array(fields[4], dtype=bool),
            "time_ms": np.array(fields[5], dtype=np.int64),
            "gold_correct": np.array(fields[6], dtype=float),  # None → nan
            "order_consistent": np.array(fields[7], dtype=float),  # None → nan
            "locale": locales.encode(fields[8]),
            "created_at": _epoch_days(fields[n_base]) * float(SECONDS_PER_DAY),
            "tags": tag_texts.encode(fields[n_base + 1]),
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

    def column(name: str, dtype=np.int64) -> np.ndarray:
        return np.concatenate(columns[name]) if name in columns else np.zeros(0, dtype=dtype)

    locale, locale_labels = locales.sorted(column("locale"))
    text_codes, texts = tag_texts.sorted(column("tags"))
    model_a, model_b = column("model_a"), column("model_b")
    model_codes, model_labels = models.sorted(np.concatenate([model_a, model_b]))
    return JudgmentArrays(
        reviewer=column("reviewer"),
        comparison=column("comparison"),
        outcome=column("outcome"),
        strength=column("strength"),
        a_on_left=column("a_on_left", bool),
        time_ms=column("time_ms"),
        created_at=column("created_at", float),
        gold_correct=column("gold_correct", float),
        order_consistent=column("order_consistent", float),
        locale=Coded(locale, [str(label) for label in locale_labels]),
        tags=_tags(texts, text_codes),
        length_a=column("length_a"),
        length_b=column("length_b"),
        model_a=model_codes[: len(model_a)],
        model_b=model_codes[len(model_a) :],
        model_labels=[str(label) for label in model_labels],
        ratings={key: column(f"rating_{index}", float) for index, key in enumerate(criteria)},
    )
