"""Parsing and checking import files: JSONL bytes in, plain rows or `line N: field: problem` messages out.

Kept apart from the database writes so that every problem in a file is found before anything is created.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from annotate.models import Candidate, Prompt
from config import json_input

# What the database holds: a longer id or name, or a NUL character (PostgreSQL text cannot hold one), must be a
# `line N: field: problem` message here, not a DataError while writing.
MAX_ID_LENGTH = Prompt._meta.get_field("external_id").max_length
MAX_CANDIDATE_ID_LENGTH = Candidate._meta.get_field("external_id").max_length
MAX_MODEL_LENGTH = Candidate._meta.get_field("model_name").max_length


@dataclass
class CandidateRow:
    external_id: str
    text: str
    model_name: str = ""
    model_version: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class PromptRow:
    line: int
    external_id: str
    locale: str
    text: str
    messages: list[dict[str, str]] | None
    tags: dict[str, Any]
    source: dict[str, Any]
    candidates: list[CandidateRow]
    pairs: list[tuple[str, str]] | None = None  # candidate ids to pair; None: the import's pairing mode


class RowError(Exception):
    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")


def _short(value: str, field_name: str, limit: int) -> str:
    if len(value) > limit:
        raise RowError(field_name, f"longer than {limit} characters")
    return value


def _no_nul(row: dict[str, Any]) -> None:
    """Refuse a NUL character anywhere in the row, keys included (PostgreSQL text and jsonb cannot store it).
    A loop over a stack, not recursion: however deep the row is nested, this must not overflow."""
    stack: list[tuple[str, Any]] = [("", row)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise RowError(path or "row", "contains a NUL character (\\u0000), which cannot be stored")
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((path or "row", key))
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def _text(value: Any, field_name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or not (value.strip() or allow_empty):
        raise RowError(field_name, "missing or empty text")
    return value


def _messages(value: Any, field_name: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise RowError(field_name, "must be a non-empty list of {role, content} messages")
    for index, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise RowError(f"{field_name}[{index}]", "each message needs a role and a content")
        _text(message.get("content"), f"{field_name}[{index}].content")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _completion_text(value: Any, field_name: str) -> str:
    """A TRL completion is a string (standard) or a list of assistant messages (conversational)."""
    if isinstance(value, list):
        return "\n\n".join(m["content"] for m in _messages(value, field_name))
    return _text(value, field_name)


def _neutral_id(text: str) -> str:
    # Candidate ids derived from the text, so "chosen"/"rejected" never leak into anything a reviewer could see.
    return "c-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _native_candidates(value: Any, *, allow_empty: bool) -> list[CandidateRow]:
    if not isinstance(value, list):
        raise RowError("candidates", "must be a list")
    rows, seen = [], set()
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise RowError(f"candidates[{index}]", "must be an object")
        external_id = item.get("id")
        if not isinstance(external_id, str) or not external_id.strip():
            raise RowError(f"candidates[{index}].id", "missing or empty id")
        if external_id in seen:
            raise RowError(f"candidates[{index}].id", f"duplicate candidate id '{external_id}'")
        seen.add(external_id)
        meta = item.get("meta") or {}
        if not isinstance(meta, dict):
            raise RowError(f"candidates[{index}].meta", "must be an object")
        rows.append(
            CandidateRow(
                external_id=_short(external_id, f"candidates[{index}].id", MAX_CANDIDATE_ID_LENGTH),
                text=_text(item.get("text"), f"candidates[{index}].text", allow_empty=allow_empty),
                model_name=_short(str(item.get("model") or ""), f"candidates[{index}].model", MAX_MODEL_LENGTH),
                model_version=_short(
                    str(item.get("model_version") or ""), f"candidates[{index}].model_version", MAX_MODEL_LENGTH
                ),
                meta=meta,
            )
        )
    return rows


def _listed_pairs(value: Any, candidates: list[CandidateRow]) -> list[tuple[str, str]] | None:
    """`"pairs": [["c1", "c2"], ...]`: the candidate pairs to create, by the row's candidate ids."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise RowError("pairs", 'must be a non-empty list of candidate id pairs, like [["c1", "c2"]]')
    ids = {candidate.external_id for candidate in candidates}
    pairs = []
    for index, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2 or pair[0] == pair[1]:
            raise RowError(f"pairs[{index}]", "must name two different candidates")
        for external_id in pair:
            if external_id not in ids:
                raise RowError(f"pairs[{index}]", f"no candidate '{external_id}' in this row")
        pairs.append((pair[0], pair[1]))
    return pairs


def _trl_candidates(data: dict[str, Any]) -> tuple[list[CandidateRow], dict[str, str]]:
    chosen = _completion_text(data.get("chosen"), "chosen")
    rejected = _completion_text(data.get("rejected"), "rejected")
    label = {"chosen": _neutral_id(chosen), "rejected": _neutral_id(rejected)}
    # Created in the order of their neutral ids, not chosen-first: database ids and the comparison's A/B sides
    # must say nothing about the label.
    candidates = sorted(
        (CandidateRow(label["chosen"], chosen), CandidateRow(label["rejected"], rejected)),
        key=lambda candidate: candidate.external_id,
    )
    return candidates, label


def _row_id(data: dict[str, Any], is_trl: bool) -> str:
    external_id = data.get("id")
    if external_id is None and is_trl:
        # TRL rows often carry no id: the content itself keys re-imports.
        payload = json.dumps([data.get("prompt"), data.get("chosen"), data.get("rejected")], sort_keys=True)
        return "trl-" + hashlib.sha256(payload.encode()).hexdigest()[:16]
    if not isinstance(external_id, (str, int)) or isinstance(external_id, bool) or not str(external_id).strip():
        raise RowError("id", "missing or empty id")
    return _short(str(external_id), "id", MAX_ID_LENGTH)


@dataclass(frozen=True)
class RowRules:
    """What a row's candidates may be: the importer's options.

    `across_models`: a row may bring a single candidate (it is paired with the prompt's stored candidates of other
    models). `allow_identical`: identical texts are accepted, and one model's identical samples collapse into its
    first one (they would only make pairs nobody can judge).
    """

    allow_empty: bool = False
    allow_identical: bool = False
    across_models: bool = False


def _collapse_identical(candidates: list[CandidateRow]) -> list[CandidateRow]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for candidate in candidates:
        if (candidate.model_name, candidate.text) not in seen:
            seen.add((candidate.model_name, candidate.text))
            kept.append(candidate)
    return kept


def _check_candidates(candidates: list[CandidateRow], rules: RowRules) -> list[CandidateRow]:
    if rules.allow_identical:
        candidates = _collapse_identical(candidates)
    elif rules.across_models and len({c.text for c in candidates}) < len(candidates):
        raise RowError("candidates", "identical texts (--allow-identical accepts them)")
    needed = 1 if rules.across_models or rules.allow_identical else 2
    if len({candidate.text for candidate in candidates}) < needed:
        raise RowError("candidates", "needs at least two distinct texts" if needed == 2 else "needs a candidate")
    return candidates


def parse_row(data: Any, *, line: int, default_locale: str | None, rules: RowRules = RowRules()) -> PromptRow:
    if not isinstance(data, dict):
        raise RowError("row", "must be a JSON object")
    _no_nul(data)
    is_trl = "chosen" in data or "rejected" in data
    external_id = _row_id(data, is_trl)
    locale = data.get("locale") or default_locale
    if not isinstance(locale, str) or not locale:
        raise RowError("locale", "missing (give it in the row, or choose a default locale for the import)")
    prompt_value = data.get("messages", data.get("prompt"))
    messages = (
        _messages(prompt_value, "messages" if "messages" in data else "prompt")
        if isinstance(prompt_value, list)
        else None
    )
    text = "" if messages else _text(prompt_value, "prompt")
    tags = data.get("tags") or {}
    if not isinstance(tags, dict):
        raise RowError("tags", "must be an object")
    if is_trl:
        candidates, label = _trl_candidates(data)
        source = {"format": "trl", "line": line, "label": label}
    else:
        candidates = _native_candidates(data.get("candidates"), allow_empty=rules.allow_empty)
        source = {"format": "verdict", "line": line}
    candidates = _check_candidates(candidates, rules)
    pairs = _listed_pairs(data.get("pairs"), candidates)
    return PromptRow(line, external_id, locale, text, messages, tags, source, candidates, pairs)


def parse_jsonl(
    data: bytes, *, default_locale: str | None = None, rules: RowRules = RowRules()
) -> tuple[list[PromptRow], list[str]]:
    """Every row that parses, and a message for every one that does not (the caller refuses the file if any)."""
    rows: list[PromptRow] = []
    errors: list[str] = []
    first_line_of: dict[str, int] = {}
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, as some editors write
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            errors.append(f"line {number}: encoding: not valid UTF-8 (byte {exc.start})")
            continue
        try:
            # NUL characters pass here: `parse_row` names the field that holds one.
            row = parse_row(
                json_input.loads(text, nul_ok=True), line=number, default_locale=default_locale, rules=rules
            )
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: json: {exc.msg} at column {exc.colno}")
            continue
        except json_input.JSONInputError as exc:
            errors.append(f"line {number}: json: {exc}")
            continue
        except RowError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        if row.external_id in first_line_of:
            errors.append(
                f"line {number}: id: duplicate id '{row.external_id}' (first on line {first_line_of[row.external_id]})"
            )
            continue
        first_line_of[row.external_id] = number
        rows.append(row)
    if not rows and not errors:
        errors.append("line 1: file: no rows to import")
    return rows, errors
