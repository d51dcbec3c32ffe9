"""Parsing judgment import files: one JSONL line per judgment, checked without the database.

A line is ``{"prompt_id", "a", "b", "outcome", "annotator": "id" | "judge": {"model", "version"?}, "strength"?,
"ratings"?, "critique"?, "created_at"?}``; ``a`` and ``b`` are the external ids of two candidates of the prompt, in
the order the annotator saw them (``a`` first). What needs the database (does the prompt exist?) is checked by
``annotate/services/judgment_imports.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from annotate.models import Outcome, Strength
from annotate.services.import_rows import RowError

MAX_ERRORS = 200
MAX_NAME = 200  # annotator ids, judge model names and versions: the JudgeIdentity columns' width
# Computed once: `TextChoices.values` builds a new list on every call, a hot spot at a million lines.
OUTCOMES = tuple(Outcome.values)
STRENGTHS = tuple(Strength.values)
FIELDS = ("prompt_id", "a", "b", "outcome", "annotator", "judge", "strength", "ratings", "critique", "created_at")
UTF8_BOM = b"\xef\xbb\xbf"


class ErrorLog:
    """`line N: field: problem` messages; past MAX_ERRORS only counted, so a wholly wrong file stays small."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append(message)

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def messages(self) -> list[str]:
        more = self.count - len(self.kept)
        return self.kept + ([f"… and {more} more problem(s)"] if more else [])


@dataclass
class JudgmentLine:
    line: int
    prompt_id: str
    a: str
    b: str
    outcome: str
    annotator: str = ""  # set for an imported human annotator
    judge_model: str = ""  # set for an AI judge
    judge_version: str = ""
    strength: str = ""
    ratings: dict[str, dict[str, Any]] = field(default_factory=dict)  # {"a": {...}, "b": {...}} in line terms
    critique: str = ""
    created_at: datetime | None = None

    @property
    def is_ai(self) -> bool:
        return bool(self.judge_model)


def _id(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RowError(name, "missing or empty id")
    return value


def _name(value: str, field_name: str) -> str:
    if len(value) > MAX_NAME:
        raise RowError(field_name, f"longer than {MAX_NAME} characters")
    return value


def _who(data: dict[str, Any]) -> tuple[str, str, str]:
    """(annotator, judge model, judge version): exactly one of annotator and judge."""
    has_annotator, has_judge = data.get("annotator") is not None, data.get("judge") is not None
    if has_annotator == has_judge:
        raise RowError("annotator", "give either annotator (an id) or judge ({model, version}), not both or neither")
    if has_annotator:
        return _name(_id(data, "annotator"), "annotator"), "", ""
    judge = data["judge"]
    if not isinstance(judge, dict):
        raise RowError("judge", 'must be an object like {"model": "...", "version": "..."}')
    unknown = sorted(set(judge) - {"model", "version"})
    if unknown:
        raise RowError(f"judge.{unknown[0]}", "not a judge field (model, version)")
    model, version = judge.get("model"), judge.get("version", "")
    if not isinstance(model, str) or not model.strip():
        raise RowError("judge.model", "missing or empty model name")
    if not isinstance(version, str):
        raise RowError("judge.version", "must be text")
    return "", _name(model.strip(), "judge.model"), _name(version.strip(), "judge.version")


def _ratings(value: Any) -> dict[str, dict[str, Any]]:
    if value in (None, {}):
        return {}
    if not isinstance(value, dict) or set(value) - {"a", "b"}:
        raise RowError("ratings", 'must be an object like {"a": {criterion: points}, "b": {...}}')
    for side, given in value.items():
        if not isinstance(given, dict):
            raise RowError(f"ratings.{side}", "must be an object of criterion → points")
    return value


def _created_at(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise RowError("created_at", "not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)")
    if moment.tzinfo is None:
        raise RowError("created_at", "needs a time zone (e.g. 2024-05-01T12:00:00Z)")
    return moment


def parse_judgment_line(data: Any, *, line: int) -> JudgmentLine:
    if not isinstance(data, dict):
        raise RowError("row", "must be a JSON object")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise RowError(unknown[0], f"not a field of a judgment line ({', '.join(FIELDS)})")
    prompt_id, a, b = _id(data, "prompt_id"), _id(data, "a"), _id(data, "b")
    if a == b:
        raise RowError("b", "names the same candidate as a")
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise RowError("outcome", f"must be one of {', '.join(OUTCOMES)}")
    annotator, judge_model, judge_version = _who(data)
    strength = data.get("strength") or ""
    if strength and strength not in STRENGTHS:
        raise RowError("strength", f"must be one of {', '.join(STRENGTHS)}")
    critique = data.get("critique") or ""
    if not isinstance(critique, str):
        raise RowError("critique", "must be text")
    return JudgmentLine(
        line=line,
        prompt_id=prompt_id,
        a=a,
        b=b,
        outcome=outcome,
        annotator=annotator,
        judge_model=judge_model,
        judge_version=judge_version,
        strength=strength,
        ratings=_ratings(data.get("ratings")),
        critique=critique.strip(),
        created_at=_created_at(data.get("created_at")),
    )


def iter_judgment_lines(raw_lines: Iterable[bytes], errors: ErrorLog) -> Iterator[JudgmentLine]:
    """The lines that parse, in file order; a `line N: field: problem` message in ``errors`` for each that does not.

    Streams: one line in memory at a time (a UTF-8 byte-order mark before the first line is skipped)."""
    for number, raw in enumerate(raw_lines, start=1):
        if number == 1 and raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM) :]
        if not raw.strip():
            continue
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            errors.add(f"line {number}: encoding: not valid UTF-8 (byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            errors.add(f"line {number}: json: {exc.msg} at column {exc.colno}")
            continue
        try:
            yield parse_judgment_line(data, line=number)
        except RowError as exc:
            errors.add(f"line {number}: {exc}")
