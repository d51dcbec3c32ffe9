"""Protecting prompts: once protected, a prompt (its normalised text in one locale) never reaches a training split."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from annotate.models import Campaign, Prompt, ProtectedPrompt
from annotate.protection import normalise_prompt, prompt_digest


class ProtectRejected(ValueError):
    """A protect request names prompts that do not exist; `errors` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def prompts_protect(
    *,
    prompts: Iterable[tuple[str | Sequence[Any], str]],
    campaign: Campaign | None = None,
    run_id: int | None = None,
    reason: str = "",
    created_by: AbstractBaseUser | None = None,
) -> int:
    """Protect each (prompt, locale code); a prompt is a text or chat messages. Idempotent: a prompt already
    protected keeps its first record. Returns how many were newly protected."""
    rows: dict[tuple[str, str], ProtectedPrompt] = {}
    for prompt, locale in prompts:
        text, messages = ("", prompt) if isinstance(prompt, list) else (str(prompt), None)
        digest = prompt_digest(text, messages)
        rows.setdefault(
            (digest, locale),
            ProtectedPrompt(
                digest=digest,
                locale_code=locale,
                preview=normalise_prompt(text, messages)[:200],
                campaign=campaign,
                run_id=run_id,
                reason=reason[:200],
                created_by=created_by if getattr(created_by, "pk", None) else None,
            ),
        )
    before = ProtectedPrompt.objects.count()
    ProtectedPrompt.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=500)
    return ProtectedPrompt.objects.count() - before


def campaign_prompts_protect(
    *, campaign: Campaign, external_ids: Sequence[str] = (), created_by: AbstractBaseUser | None = None
) -> int:
    """A lead marks a campaign's prompts (all, or those named) protected; returns how many were newly protected."""
    prompts = Prompt.objects.filter(campaign=campaign).select_related("locale")
    if external_ids:
        prompts = prompts.filter(external_id__in=external_ids)
        missing = sorted(set(external_ids) - set(prompts.values_list("external_id", flat=True)))
        if missing:
            shown = ", ".join(repr(m) for m in missing[:5])
            raise ProtectRejected({"prompts": [f"no prompt {shown} in campaign {campaign.slug!r}"]})
    return prompts_protect(
        prompts=((p.messages or p.text, p.locale.code) for p in prompts.iterator()),
        campaign=campaign,
        reason="marked protected by a lead",
        created_by=created_by,
    )
