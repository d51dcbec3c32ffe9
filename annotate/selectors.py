"""Reads shared by pages and the API."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from annotate.models import Campaign, DatasetSnapshot, ProtectedPrompt
from annotate.protection import prompt_value_digest


def campaigns_for_reviewer(*, reviewer: AbstractBaseUser) -> QuerySet[Campaign]:
    """Active campaigns with at least one locale the reviewer is qualified for."""
    return (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE, locales__qualifications__reviewer=reviewer)
        .select_related("rubric")
        .distinct()
        .order_by("slug")
    )


# Dataset snapshots: what the training app reads. Files are listed in the manifest; anything else is not served.
SNAPSHOT_FILE_NAMES = ("train.jsonl", "test.jsonl", "ties.jsonl", "excluded.jsonl", "manifest.json")


def snapshot_list() -> QuerySet[DatasetSnapshot]:
    """Every snapshot, newest version first."""
    return DatasetSnapshot.objects.select_related("created_by").prefetch_related("campaigns").order_by("-version")


def snapshot_get(*, snapshot_id: int) -> DatasetSnapshot:
    """One snapshot; raises DatasetSnapshot.DoesNotExist."""
    return snapshot_list().get(id=snapshot_id)


def snapshot_file_path(*, snapshot: DatasetSnapshot, name: str) -> Path:
    """Where one of the snapshot's files lies; raises FileNotFoundError for a name that is not one of them."""
    if name not in SNAPSHOT_FILE_NAMES:
        raise FileNotFoundError(f"{name}: not a snapshot file (one of {', '.join(SNAPSHOT_FILE_NAMES)})")
    path = Path(snapshot.path) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from snapshot v{snapshot.version}")
    return path


def snapshot_mean_agreement(*, snapshot: DatasetSnapshot) -> float:
    """The mean majority share over the snapshot's exported pairs (train, test and ties); 0.0 when none."""
    return float(snapshot.manifest.get("counts", {}).get("mean_agreement", 0.0))


def prompt_rows(
    *, campaigns: list[Campaign], locale: str = "", tag: str = "", exclude: set[tuple[str, str]] = frozenset()
) -> list[dict]:
    """The campaigns' prompts as import rows (id, locale, prompt or messages, tags), for generating new answers.

    `tag` is `key` (the prompt has the tag) or `key=value`; `exclude` holds (campaign slug, prompt id) pairs. An id
    met twice (two campaigns) is taken once, from the first campaign.
    """
    from annotate.models import Prompt

    key, _, value = tag.partition("=")
    prompts = Prompt.objects.filter(campaign__in=campaigns).select_related("campaign", "locale").order_by("id")
    if locale:
        prompts = prompts.filter(locale__code=locale)
    rows: dict[str, dict] = {}
    for prompt in prompts:
        tags = prompt.tags or {}
        if key and (key not in tags or ("=" in tag and str(tags[key]) != value)):
            continue
        if (prompt.campaign.slug, prompt.external_id) in exclude or prompt.external_id in rows:
            continue
        text = {"messages": prompt.messages} if prompt.messages else {"prompt": prompt.text}
        rows[prompt.external_id] = {"id": prompt.external_id, "locale": prompt.locale.code, **text, "tags": tags}
    return list(rows.values())


def protected_prompt_keys() -> set[tuple[str, str]]:
    """(digest, locale code) of every protected prompt: what the exporter keeps out of training splits."""
    return set(ProtectedPrompt.objects.values_list("digest", "locale_code"))


def prompt_is_protected(*, prompt: str | list, locale: str) -> bool:
    """Whether a prompt (a text or chat messages) in this locale is protected, under any spacing or case."""
    return ProtectedPrompt.objects.filter(digest=prompt_value_digest(prompt), locale_code=locale).exists()


def snapshot_split_rows(*, snapshot: DatasetSnapshot, split: str = "test") -> list[dict]:
    """The prompts of a snapshot's `split` (test: never trained on) as they were exported, one per prompt and locale:
    {"id", "campaign", "locale", "prompt" (a text or chat messages), "tags"}. Tied pairs count by their `meta.split`."""
    rows: dict[tuple[str, str], dict] = {}
    for name in ("train.jsonl", "test.jsonl", "ties.jsonl"):
        try:
            path = snapshot_file_path(snapshot=snapshot, name=name)
        except FileNotFoundError:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            meta = row.get("meta", {})
            if meta.get("split", name.removesuffix(".jsonl")) != split or "prompt" not in row:
                continue
            digest = prompt_value_digest(row["prompt"])
            locale = meta.get("locale", "")
            rows.setdefault(
                (digest, locale),
                {
                    "id": str(meta.get("prompt_id") or f"p-{digest[:12]}"),
                    "campaign": meta.get("campaign", ""),
                    "locale": locale,
                    "prompt": row["prompt"],
                    "tags": meta.get("tags") or {},
                },
            )
    return list(rows.values())
