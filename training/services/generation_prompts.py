"""Which prompts a generation job answers: a campaign's (filtered), an uploaded file's, or those a run's snapshot
never used; as import rows (id, locale, prompt or messages, tags), checked before the job exists."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

from annotate import selectors as annotate_selectors
from annotate.models import Campaign
from training.models import TrainingRun
from training.services import GenerationRejected


def snapshot_prompts(snapshot) -> set[tuple[str, str]]:
    """(campaign slug, prompt id) of every prompt a snapshot's pairs came from, in any split."""
    used = set()
    for name in ("train.jsonl", "test.jsonl", "ties.jsonl"):
        try:
            path = annotate_selectors.snapshot_file_path(snapshot=snapshot, name=name)
        except FileNotFoundError:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            meta = json.loads(line).get("meta", {}) if line.strip() else {}
            if meta.get("prompt_id") is not None:
                used.add((meta.get("campaign", ""), str(meta["prompt_id"])))
    return used


def uploaded_rows(data: bytes, default_locale: str) -> list[dict[str, Any]]:
    """A prompts-only JSONL file, checked line by line by the engine's reader (no model is loaded for it)."""
    from training.engine.prompts import PromptFileError, read_prompt_rows

    folder = Path(settings.DATA_DIR) / "generation" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.jsonl"
    path.write_bytes(data)
    try:
        rows = [row.fields for row in read_prompt_rows(str(path))]
    except PromptFileError as exc:
        raise GenerationRejected({"prompts_file": exc.errors}) from None
    finally:
        path.unlink(missing_ok=True)
    missing = [row["id"] for row in rows if not (row.get("locale") or default_locale)]
    if missing:
        raise GenerationRejected({"locale": [f"prompt {missing[0]!r} names no locale: give a default locale"]})
    return [{**row, "locale": row.get("locale") or default_locale} for row in rows]


def chosen_prompt_rows(
    *, source_campaign: Campaign | None, locale: str, tag: str, upload: bytes | None, round_of: TrainingRun | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The chosen prompts as import rows, and a description of where they came from."""
    if upload is not None:
        return uploaded_rows(upload, locale), {"kind": "upload", "locale": locale}
    if source_campaign is not None:
        rows = annotate_selectors.prompt_rows(campaigns=[source_campaign], locale=locale, tag=tag)
        return rows, {"kind": "campaign", "campaign": source_campaign.slug, "locale": locale, "tag": tag}
    if round_of is not None:
        snapshot = round_of.snapshot
        campaigns = list(snapshot.campaigns.all())
        used = snapshot_prompts(snapshot)
        rows = annotate_selectors.prompt_rows(campaigns=campaigns, locale=locale, tag=tag, exclude=used)
        source = {"kind": "unused", "snapshot": snapshot.version, "campaigns": [c.slug for c in campaigns]}
        return rows, {**source, "locale": locale, "tag": tag}
    raise GenerationRejected({"prompts": ["choose a campaign's prompts or upload a prompts file"]})


def as_chat(row: dict[str, Any]) -> dict[str, Any]:
    """A plain-text prompt as one user message: a chat model answers a bare text poorly or not at all, and the new
    campaign keeps the conversation, so reviewers, exports and training all see the prompt the model answered."""
    if "messages" in row or not isinstance(row.get("prompt"), str):
        return row
    return {**{k: v for k, v in row.items() if k != "prompt"}, "messages": [{"role": "user", "content": row["prompt"]}]}
