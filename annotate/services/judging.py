"""Storing a reviewer's decision: left/right turned into candidate terms, rubric checks, idempotency, undo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate.models import Assignment, Campaign, Comparison, Judgment, Outcome, Rubric, Strength
from annotate.services.assignment import slots_held_by_others

CHOICES = ("left", "right", "tie", "both_bad", "escalate")
NEEDS_STRENGTH = ("left", "right")
NEEDS_CRITIQUE = ("both_bad", "escalate")
UNDO_WINDOW = timedelta(seconds=60)
MAX_TIME_TAKEN_MS = 24 * 3600 * 1000
# Free text a reviewer types: long enough for a careful critique, short enough that no one stores a book.
CRITIQUE_MAX_LENGTH = 5000


class JudgmentInvalid(ValueError):
    """The submission cannot be stored; `errors` maps a field to a message the reviewer can act on."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class LeaseLost(JudgmentInvalid):
    """The lease expired and someone else took the slot in the meantime."""


class CampaignClosed(JudgmentInvalid):
    """The campaign was closed after the pair was leased: it takes no judgments any more."""


class UndoUnavailable(Exception):
    pass


def outcome_for(*, choice: str, a_on_left: bool) -> str:
    if choice == "left":
        return Outcome.A if a_on_left else Outcome.B
    if choice == "right":
        return Outcome.B if a_on_left else Outcome.A
    return choice


def choice_for(*, outcome: str, a_on_left: bool) -> str:
    """The inverse of `outcome_for`: how the reviewer saw it."""
    if outcome == Outcome.A:
        return "left" if a_on_left else "right"
    if outcome == Outcome.B:
        return "right" if a_on_left else "left"
    return outcome


def validate_ratings(*, rubric: Rubric, ratings: Any) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """Ratings as {"left": {key: int}, "right": {...}} → (clean ratings, errors keyed `ratings.left.key`)."""
    if ratings in (None, ""):
        ratings = {}
    if not isinstance(ratings, dict):
        return {}, {"ratings": 'must be an object like {"left": {...}, "right": {...}}'}
    errors: dict[str, str] = {}
    extra = set(ratings) - {"left", "right"}
    if extra:
        errors["ratings"] = f"unknown side(s) {', '.join(sorted(map(str, extra)))}: use left and right"
    criteria = {criterion["key"]: criterion for criterion in rubric.criteria}
    clean: dict[str, dict[str, int]] = {}
    for side in ("left", "right"):
        given = ratings.get(side) or {}
        if not isinstance(given, dict):
            errors[f"ratings.{side}"] = "must be an object of criterion → points"
            continue
        for key in given:
            if key not in criteria:
                errors[f"ratings.{side}.{key}"] = "not a criterion of this rubric"
        clean[side] = {}
        for key, criterion in criteria.items():
            value = given.get(key)
            if value in (None, ""):
                if criterion.get("required"):
                    errors[f"ratings.{side}.{key}"] = f"{criterion.get('label', key)}: required"
                continue
            scale = int(criterion.get("scale", 5))
            try:
                points = int(value)
            except (TypeError, ValueError):
                points = None
            if points is None or isinstance(value, bool) or not 1 <= points <= scale:
                errors[f"ratings.{side}.{key}"] = (
                    f"{criterion.get('label', key)}: pick a whole number from 1 to {scale}"
                )
                continue
            clean[side][key] = points
    return clean, errors


def _validate(*, assignment: Assignment, choice, strength, ratings, critique) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    if choice not in CHOICES:
        errors["choice"] = "pick left, right, tie, both bad or escalate"
    strength = strength or ""
    if strength and strength not in Strength.values:
        errors["strength"] = "pick slight, clear or strong"
    elif choice in NEEDS_STRENGTH and not strength:
        errors["strength"] = "say how much better: slight, clear or strong"
    critique = (critique or "").strip()
    if len(critique) > CRITIQUE_MAX_LENGTH:
        errors["critique"] = f"at most {CRITIQUE_MAX_LENGTH:,} characters ({len(critique):,} given)"
    elif "\x00" in critique:  # PostgreSQL stores no NUL in text; the page posts what the browser sends
        errors["critique"] = "must not contain NUL characters"
    elif choice in NEEDS_CRITIQUE and not critique:
        errors["critique"] = "explain what is wrong" if choice == "both_bad" else "explain why this needs a lead"
    clean, rating_errors = validate_ratings(rubric=assignment.comparison.campaign.rubric, ratings=ratings)
    errors.update(rating_errors)
    return {"strength": strength, "critique": critique, "ratings": clean}, errors


@transaction.atomic
def submit_judgment(
    *,
    assignment: Assignment,
    choice: str,
    strength: str | None,
    ratings: Any,
    critique: str | None,
    time_taken_ms: int | None = 0,
) -> tuple[Judgment, bool]:
    """Store the reviewer's decision on their assignment; a repeat answers with the stored judgment (created=False)."""
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("comparison__campaign__rubric")
        .get(pk=assignment.pk)
    )
    # Read after the lock, in a statement of its own: joined into the locking query, a judgment committed by the
    # transaction we waited for would stay invisible (PostgreSQL re-checks only the locked row).
    existing = Judgment.objects.filter(assignment=locked).first()
    if existing is not None:  # a repeat (double click, client retry): answer with what was stored
        return existing, False
    campaign_status = locked.comparison.campaign.status
    if campaign_status != Campaign.Status.ACTIVE:  # closed (or back to draft) after this pair was leased
        raise CampaignClosed({"campaign": f"this campaign is {campaign_status} and takes no judgments"})
    clean, errors = _validate(assignment=locked, choice=choice, strength=strength, ratings=ratings, critique=critique)
    if errors:
        raise JudgmentInvalid(errors)

    comparison = locked.comparison
    now = timezone.now()
    lease_lapsed = locked.state != Assignment.State.LEASED or locked.expires_at <= now
    if lease_lapsed and not comparison.is_gold:
        if slots_held_by_others(assignment=locked) >= comparison.campaign.overlap:
            raise LeaseLost(
                {"assignment": "your time on this pair ran out and other reviewers completed it; it was not saved"}
            )
    if locked.state == Assignment.State.RELEASED:  # swept or skipped: take the slot again
        Comparison.objects.filter(pk=comparison.pk).update(taken=F("taken") + 1)

    outcome = outcome_for(choice=choice, a_on_left=locked.a_on_left)
    left, right = clean["ratings"].get("left", {}), clean["ratings"].get("right", {})
    stored_ratings = {"a": left, "b": right} if locked.a_on_left else {"a": right, "b": left}
    if not any(stored_ratings.values()):
        stored_ratings = {}
    judgment = Judgment.objects.create(
        assignment=locked,
        comparison=comparison,
        reviewer_id=locked.reviewer_id,
        outcome=outcome,
        strength=clean["strength"],
        ratings=stored_ratings,
        critique=clean["critique"],
        time_taken_ms=max(0, min(int(time_taken_ms or 0), MAX_TIME_TAKEN_MS)),
        gold_correct=gold_correct(comparison=comparison, outcome=outcome),
        created_at=now,
    )
    locked.state = Assignment.State.SUBMITTED
    locked.submitted_at = now
    locked.save(update_fields=["state", "submitted_at"])
    assignment.state, assignment.submitted_at = locked.state, locked.submitted_at
    return judgment, True


def gold_correct(*, comparison: Comparison, outcome: str) -> bool | None:
    """None for regular pairs and for escalations (the reviewer asked for help instead of answering)."""
    if not comparison.is_gold or outcome == Outcome.ESCALATE:
        return None
    return outcome == comparison.gold_outcome


@transaction.atomic
def undo_last_judgment(*, reviewer: AbstractBaseUser) -> Assignment:
    """Delete the reviewer's latest judgment (within 60 s) and re-open its assignment as a live lease."""
    judgment = (
        Judgment.objects.select_for_update(of=("self",))
        .select_related("assignment", "comparison__campaign")
        .filter(reviewer=reviewer)
        .order_by("-created_at", "-id")
        .first()
    )
    now = timezone.now()
    if judgment is None or now - judgment.created_at > UNDO_WINDOW:
        raise UndoUnavailable("nothing to undo: only a judgment from the last 60 seconds can be taken back")
    if hasattr(judgment, "resolution"):
        raise UndoUnavailable("a lead already resolved this escalation")
    assignment = judgment.assignment
    comparison = judgment.comparison
    # The slot stays counted while the judgment turns back into a lease; refuse if the pair is over-full anyway.
    if not comparison.is_gold and slots_held_by_others(assignment=assignment) >= comparison.campaign.overlap:
        raise UndoUnavailable("another reviewer took this pair's slot in the meantime")
    judgment.delete()
    assignment.state = Assignment.State.LEASED
    assignment.submitted_at = None
    assignment.expires_at = now + timedelta(minutes=comparison.campaign.lease_minutes)
    assignment.save(update_fields=["state", "submitted_at", "expires_at"])
    return assignment


def undo_available(*, reviewer: AbstractBaseUser) -> bool:
    """Whether `undo_last_judgment` would find a judgment inside the window (for showing the Undo button)."""
    since = timezone.now() - UNDO_WINDOW
    return Judgment.objects.filter(reviewer=reviewer, created_at__gt=since, resolution__isnull=True).exists()
