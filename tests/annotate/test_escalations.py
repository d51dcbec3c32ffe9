"""Leads resolve escalations beside the judgment, never over it."""

from __future__ import annotations

import pytest

from annotate.models import EscalationResolution, Judgment, Outcome
from annotate.review_selectors import open_escalations
from annotate.services.escalations import NOTE_MAX_LENGTH, ResolutionInvalid, resolve_escalation
from tests.factories import JudgmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalation(alice):
    return JudgmentFactory(reviewer=alice, outcome=Outcome.ESCALATE, strength="", critique="Is this medical advice?")


def test_an_escalated_judgment_waits_in_the_leads_queue_until_resolved(escalation, lena):
    JudgmentFactory(outcome=Outcome.A)
    assert list(open_escalations()) == [escalation]
    resolve_escalation(judgment=escalation, lead=lena, decision="b", note="B is the safe one.")
    assert list(open_escalations()) == []


def test_resolving_keeps_the_reviewers_judgment_unchanged(escalation, lena):
    resolution = resolve_escalation(judgment=escalation, lead=lena, decision="tie", note="")
    stored = Judgment.objects.get(pk=escalation.pk)
    assert stored.outcome == Outcome.ESCALATE and stored.critique == "Is this medical advice?"
    assert resolution.decision == "tie" and resolution.resolved_by == lena


def test_discarding_a_pair_needs_a_note(escalation, lena):
    with pytest.raises(ResolutionInvalid) as caught:
        resolve_escalation(judgment=escalation, lead=lena, decision="discard", note=" ")
    assert "note" in caught.value.errors
    resolve_escalation(judgment=escalation, lead=lena, decision="discard", note="Prompt is broken.")
    assert EscalationResolution.objects.get().decision == "discard"


def test_an_escalation_is_resolved_once(escalation, lena):
    resolve_escalation(judgment=escalation, lead=lena, decision="a", note="")
    with pytest.raises(ResolutionInvalid) as caught:
        resolve_escalation(judgment=escalation, lead=lena, decision="b", note="")
    assert "judgment" in caught.value.errors
    assert EscalationResolution.objects.get().decision == "a"


def test_only_escalations_and_known_decisions_are_accepted(alice, lena):
    plain = JudgmentFactory(reviewer=alice, outcome=Outcome.A)
    with pytest.raises(ResolutionInvalid) as caught:
        resolve_escalation(judgment=plain, lead=lena, decision="maybe", note="")
    assert set(caught.value.errors) == {"judgment", "decision"}


def test_a_resolution_note_over_the_limit_is_refused(lena):
    judgment = JudgmentFactory(outcome="escalate", critique="unsure")
    with pytest.raises(ResolutionInvalid) as invalid:
        resolve_escalation(judgment=judgment, lead=lena, decision="a", note="x" * (NOTE_MAX_LENGTH + 1))
    assert set(invalid.value.errors) == {"note"}
