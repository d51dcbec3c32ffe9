"""A lead flags a reviewer whose judgments should not be trained on, or lifts the flag (never deleted: kept for audit).

A flag applies to one campaign, or to every campaign when ``campaign`` is None; exports leave flagged reviewers'
judgments out and the quality dashboard marks them.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotate.models import Campaign, ReviewerFlag

REASON_MAX_LENGTH = 2000


class FlagInvalid(ValueError):
    """A reason a lead typed is unusable; the message names the field."""


def reviewer_flag(
    *, reviewer: AbstractBaseUser, campaign: Campaign | None, flagged_by: AbstractBaseUser, reason: str = ""
) -> ReviewerFlag:
    """Flag the reviewer in this campaign (None: everywhere); an active flag with the same scope is kept as it is."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise FlagInvalid(f"reason: at most {REASON_MAX_LENGTH:,} characters ({len(reason):,} given)")
    with transaction.atomic():
        existing = ReviewerFlag.objects.filter(reviewer=reviewer, campaign=campaign, active=True).first()
        if existing is not None:
            return existing
        return ReviewerFlag.objects.create(reviewer=reviewer, campaign=campaign, flagged_by=flagged_by, reason=reason)


def reviewer_unflag(*, reviewer: AbstractBaseUser, campaign: Campaign, cleared_by: AbstractBaseUser) -> int:
    """Lift every active flag that marks the reviewer in this campaign (its own and any everywhere-flag); how many."""
    flags = ReviewerFlag.objects.filter(Q(campaign=campaign) | Q(campaign__isnull=True), reviewer=reviewer, active=True)
    return flags.update(active=False, cleared_by=cleared_by, cleared_at=timezone.now())
