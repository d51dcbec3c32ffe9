"""A lead's answer to an escalated judgment, stored beside it (the reviewer's judgment is never changed)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from annotate.models import EscalationResolution, Judgment, Outcome

NOTE_MAX_LENGTH = 5000  # a lead's note on a resolution, as long as a reviewer's critique may be


class ResolutionInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def resolve_escalation(
    *, judgment: Judgment, lead: AbstractBaseUser, decision: str, note: str | None
) -> EscalationResolution:
    """Record the lead's decision (a, b, tie, both_bad, or discard: drop the pair); one resolution per escalation."""
    note = (note or "").strip()
    errors: dict[str, str] = {}
    if judgment.outcome != Outcome.ESCALATE:
        errors["judgment"] = "only escalated judgments are resolved here"
    if decision not in EscalationResolution.Decision.values:
        errors["decision"] = "pick A better, B better, tie, both bad or discard pair"
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = f"at most {NOTE_MAX_LENGTH:,} characters ({len(note):,} given)"
    elif decision == EscalationResolution.Decision.DISCARD and not note:
        errors["note"] = "say why the pair is discarded"
    if errors:
        raise ResolutionInvalid(errors)
    try:
        with transaction.atomic():
            return EscalationResolution.objects.create(
                judgment=judgment, decision=decision, note=note, resolved_by=lead
            )
    except IntegrityError:
        raise ResolutionInvalid({"judgment": "another lead already resolved this escalation"}) from None
