"""Prompt files for generation: rows in Verdict's import format or TRL's preference format in, import rows out.

Reading checks every line before any model is loaded, and reports each problem as `line N: field: problem`. The
output rows keep each prompt's own fields and carry the generated answers as `candidates`, so `import_comparisons`
takes the file as it is. No Django here: the app's importer (annotate/services/import_rows.py) is the other end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# A TRL row's own answers are not this model's: they are dropped, as are candidates already in an import row.
DROPPED_FIELDS = ("chosen", "rejected", "candidates")


@dataclass
class PromptRow:
    line: int
    id: str
    prompt: str | list[dict[str, str]]  # text, or a conversation for the chat template
    fields: dict[str, Any]  # the row as written out, without the dropped fields


class PromptFileError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _messages(value: Any, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name}: must be a non-empty list of {{role, content}} messages")
    for index, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError(f"{name}[{index}]: each message needs a role and a content")
        if not isinstance(message.get("content"), str) or not message["content"].strip():
            raise ValueError(f"{name}[{index}].content: missing or empty text")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _row_id(data: dict[str, Any]) -> str:
    if data.get("id") is None and ("chosen" in data or "rejected" in data):
        # The id the importer gives an id-less TRL row, so the new answers land on the same prompt.
        payload = json.dumps([data.get("prompt"), data.get("chosen"), data.get("rejected")], sort_keys=True)
        return "trl-" + hashlib.sha256(payload.encode()).hexdigest()[:16]
    value = data.get("id")
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not str(value).strip():
        raise ValueError("id: missing or empty id")
    return str(value)


def parse_prompt_row(data: Any, line: int) -> PromptRow:
    if not isinstance(data, dict):
        raise ValueError("row: must be a JSON object")
    row_id = _row_id(data)
    name = "messages" if "messages" in data else "prompt"
    value = data.get(name)
    if isinstance(value, list):
        prompt: str | list[dict[str, str]] = _messages(value, name)
    elif isinstance(value, str) and value.strip():
        prompt = value
    else:
        raise ValueError(f"{name}: missing or empty text")
    if "locale" in data and (not isinstance(data["locale"], str) or not data["locale"]):
        raise ValueError("locale: must be a locale code such as en-US")
    if not isinstance(data.get("tags") or {}, dict):
        raise ValueError("tags: must be an object")
    fields = {key: item for key, item in data.items() if key not in DROPPED_FIELDS}
    fields["id"] = row_id
    meta = data.get("meta")
    if "locale" not in fields and isinstance(meta, dict) and isinstance(meta.get("locale"), str):
        fields["locale"] = meta["locale"]  # an exported snapshot's TRL rows keep the locale in their meta
    return PromptRow(line, row_id, prompt, fields)


def read_prompt_rows(path: str) -> list[PromptRow]:
    """Every row of a JSONL prompt file; raises PromptFileError listing every problem (`line N: field: problem`)."""
    try:
        with open(path, "rb") as handle:
            raw_lines = handle.read().split(b"\n")
    except OSError as exc:
        raise PromptFileError([f"cannot read: {exc.strerror}"]) from None
    rows: list[PromptRow] = []
    errors: list[str] = []
    first_line_of: dict[str, int] = {}
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            row = parse_prompt_row(json.loads(raw.decode("utf-8")), number)
        except UnicodeDecodeError as exc:
            errors.append(f"line {number}: encoding: not valid UTF-8 (byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: json: {exc.msg} at column {exc.colno}")
            continue
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
            continue
        if row.id in first_line_of:
            errors.append(f"line {number}: id: duplicate id '{row.id}' (first on line {first_line_of[row.id]})")
            continue
        first_line_of[row.id] = number
        rows.append(row)
    if not rows and not errors:
        errors.append("no prompts")
    if errors:
        raise PromptFileError(errors)
    return rows


def candidate_id(prompt_id: str, model_version: str, sample_index: int) -> str:
    """Stable per (prompt, model version, sample): a retrained adapter's answers never reuse an older id."""
    key = f"{prompt_id}\0{model_version}\0{sample_index}".encode()
    return "g-" + hashlib.sha256(key).hexdigest()[:20]


def model_version(base_sha256: str, adapter_sha256: str | None) -> str:
    """The base model's digest, plus the adapter's: short forms (the full ones go into each candidate's meta)."""
    version = f"sha256:{base_sha256[:16]}"
    return f"{version}+{adapter_sha256[:16]}" if adapter_sha256 else version
