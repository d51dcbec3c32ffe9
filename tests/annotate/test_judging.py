"""Submitting a judgment: left/right → A/B, rubric checks, required fields, idempotency, expired leases, undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.models import Assignment, Campaign, Judgment, Outcome
from annotate.services.assignment import assign_next_pair, skip_assignment
from annotate.services.judging import (
    CRITIQUE_MAX_LENGTH,
    CampaignClosed,
    JudgmentInvalid,
    LeaseLost,
    UndoUnavailable,
    submit_judgment,
    undo_last_judgment,
)
from tests.annotate.review_helpers import campaign_with_pairs, rubric_with
from tests.factories import LocaleFactory, QualificationFactory, UserFactory

pytestmark = pytest.mark.django_db

CRITERIA = (
    {"key": "accuracy", "label": "Accuracy", "description": "Is it right?", "scale": 5, "required": True},
    {"key": "style", "label": "Style", "description": "Is it pleasant?", "scale": 3},
)


def submit(assignment, **overrides):
    payload = {"choice": "left", "strength": "clear", "ratings": {}, "critique": "", "time_taken_ms": 1234}
    payload.update(overrides)
    return submit_judgment(assignment=assignment, **payload)


def lease(reviewer, **campaign_kwargs):
    campaign, _ = campaign_with_pairs(2, **campaign_kwargs)
    return assign_next_pair(reviewer=reviewer, campaign=campaign)


def carol():
    user = UserFactory(username="carol", role="reviewer")
    QualificationFactory(reviewer=user, locale=LocaleFactory(code="en-US"))
    return user


@pytest.mark.parametrize(
    ("a_on_left", "choice", "outcome"),
    [
        (True, "left", Outcome.A),
        (True, "right", Outcome.B),
        (False, "left", Outcome.B),
        (False, "right", Outcome.A),
        (False, "tie", Outcome.TIE),
    ],
)
def test_left_and_right_are_stored_in_candidate_terms(alice, a_on_left, choice, outcome):
    assignment = lease(alice)
    Assignment.objects.filter(pk=assignment.pk).update(a_on_left=a_on_left)
    assignment.refresh_from_db()
    judgment, created = submit(assignment, choice=choice)
    assert created and judgment.outcome == outcome


def test_ratings_are_validated_against_the_rubric_and_stored_in_a_b_terms(alice):
    assignment = lease(alice, rubric=rubric_with(*CRITERIA))
    Assignment.objects.filter(pk=assignment.pk).update(a_on_left=False)
    assignment.refresh_from_db()
    ratings = {"left": {"accuracy": 4, "style": "2"}, "right": {"accuracy": 2}}
    judgment, _ = submit(assignment, ratings=ratings)
    assert judgment.ratings == {"a": {"accuracy": 2}, "b": {"accuracy": 4, "style": 2}}


@pytest.mark.parametrize(
    ("ratings", "field"),
    [
        ({"left": {"accuracy": 6}, "right": {"accuracy": 3}}, "ratings.left.accuracy"),
        ({"left": {"accuracy": 0}, "right": {"accuracy": 3}}, "ratings.left.accuracy"),
        ({"left": {"accuracy": "x"}, "right": {"accuracy": 3}}, "ratings.left.accuracy"),
        ({"left": {"accuracy": 3}, "right": {}}, "ratings.right.accuracy"),
        ({"left": {"accuracy": 3, "tone": 2}, "right": {"accuracy": 3}}, "ratings.left.tone"),
        ({"left": {"accuracy": 3}, "right": {"accuracy": 3}, "middle": {}}, "ratings"),
        ("bad", "ratings"),
    ],
)
def test_it_rejects_ratings_the_rubric_does_not_allow(alice, ratings, field):
    assignment = lease(alice, rubric=rubric_with(*CRITERIA))
    with pytest.raises(JudgmentInvalid) as caught:
        submit(assignment, ratings=ratings)
    assert field in caught.value.errors
    assert not Judgment.objects.exists()


@pytest.mark.parametrize("choice", ["both_bad", "escalate"])
def test_it_requires_a_critique_for_both_bad_and_escalate(alice, choice):
    assignment = lease(alice)
    with pytest.raises(JudgmentInvalid) as caught:
        submit(assignment, choice=choice, strength="", critique="  ")
    assert set(caught.value.errors) == {"critique"}
    judgment, _ = submit(assignment, choice=choice, strength="", critique="Both answers invent a date.")
    assert judgment.outcome == choice and judgment.critique == "Both answers invent a date."


@pytest.mark.parametrize("choice", ["left", "right"])
def test_it_requires_a_strength_for_left_or_right(alice, choice):
    with pytest.raises(JudgmentInvalid) as caught:
        submit(lease(alice), choice=choice, strength="")
    assert set(caught.value.errors) == {"strength"}


def test_strength_is_optional_for_a_tie_and_must_be_known_when_given(alice):
    assignment = lease(alice)
    with pytest.raises(JudgmentInvalid) as caught:
        submit(assignment, choice="tie", strength="huge")
    assert "strength" in caught.value.errors
    judgment, _ = submit(assignment, choice="tie", strength="")
    assert judgment.strength == ""


def test_it_rejects_an_unknown_choice(alice):
    with pytest.raises(JudgmentInvalid) as caught:
        submit(lease(alice), choice="a")
    assert "choice" in caught.value.errors


def test_submitting_twice_stores_one_judgment_and_answers_with_it(alice):
    assignment = lease(alice)
    first, created = submit(assignment)
    again, created_again = submit(assignment, choice="right")
    assert created and not created_again
    assert again == first and again.outcome == first.outcome
    assert Judgment.objects.count() == 1
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.SUBMITTED


def test_it_records_time_taken_and_the_reviewer(alice):
    judgment, _ = submit(lease(alice), time_taken_ms=4321)
    assert judgment.reviewer == alice and judgment.time_taken_ms == 4321


def expire(assignment):
    Assignment.objects.filter(pk=assignment.pk).update(expires_at=timezone.now() - timedelta(seconds=5))
    assignment.refresh_from_db()


def test_a_submit_on_an_expired_lease_is_accepted_while_the_slot_is_free(alice):
    assignment = lease(alice, overlap=1)
    expire(assignment)
    judgment, created = submit(assignment)
    assert created
    assignment.comparison.refresh_from_db()
    assert assignment.comparison.taken == 1


def test_a_submit_on_a_swept_lease_takes_the_slot_back_when_free(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=2)
    assignment = assign_next_pair(reviewer=alice, campaign=campaign)
    expire(assignment)
    assign_next_pair(reviewer=bob, campaign=campaign)  # sweeps alice's lease; bob takes the other slot
    assignment.refresh_from_db()
    assert assignment.state == Assignment.State.RELEASED
    submit(assignment)
    pair.refresh_from_db()
    assert pair.taken == 2


def test_a_submit_on_an_expired_lease_is_refused_once_someone_else_took_the_slot(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=1)
    assignment = assign_next_pair(reviewer=alice, campaign=campaign)
    expire(assignment)
    submit(assign_next_pair(reviewer=bob, campaign=campaign))
    with pytest.raises(LeaseLost) as caught:
        submit(assignment)
    assert "assignment" in caught.value.errors
    assert Judgment.objects.filter(reviewer=alice).count() == 0
    pair.refresh_from_db()
    assert pair.taken == 1


def test_gold_answers_are_marked_correct_or_not(alice, bob):
    campaign, pairs = campaign_with_pairs(1, overlap=3, gold=1, gold_rate=1.0)
    right = assign_next_pair(reviewer=alice, campaign=campaign)
    Assignment.objects.filter(pk=right.pk).update(a_on_left=True)
    right.refresh_from_db()
    assert submit(right, choice="left")[0].gold_correct is True
    wrong = assign_next_pair(reviewer=bob, campaign=campaign)
    Assignment.objects.filter(pk=wrong.pk).update(a_on_left=True)
    wrong.refresh_from_db()
    assert submit(wrong, choice="tie", strength="")[0].gold_correct is False
    regular = assign_next_pair(reviewer=alice, campaign=campaign)
    assert submit(regular)[0].gold_correct is None


def test_undo_reopens_the_last_judgment_as_a_live_lease(alice):
    assignment = lease(alice)
    submit(assignment)
    reopened = undo_last_judgment(reviewer=alice)
    assert reopened == assignment
    assert reopened.state == Assignment.State.LEASED and reopened.expires_at > timezone.now()
    assert not Judgment.objects.exists()
    assignment.comparison.refresh_from_db()
    assert assignment.comparison.taken == 1
    assert submit(reopened, choice="right")[1] is True


def test_undo_is_refused_after_sixty_seconds(alice):
    assignment = lease(alice)
    judgment, _ = submit(assignment)
    Judgment.objects.filter(pk=judgment.pk).update(created_at=timezone.now() - timedelta(seconds=61))
    with pytest.raises(UndoUnavailable):
        undo_last_judgment(reviewer=alice)
    assert Judgment.objects.count() == 1


def test_undo_only_touches_the_reviewers_own_last_judgment(alice, bob):
    submit(lease(alice))
    with pytest.raises(UndoUnavailable):
        undo_last_judgment(reviewer=bob)
    assert Judgment.objects.count() == 1


def test_undo_is_refused_when_the_pair_is_already_full_without_it(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=1)
    assignment = assign_next_pair(reviewer=alice, campaign=campaign)
    submit(assignment)
    # A slot the pool should never have handed out (e.g. a lead's manual fix): undo must not over-fill the pair.
    from tests.factories import JudgmentFactory

    JudgmentFactory(comparison=pair, reviewer=carol())
    with pytest.raises(UndoUnavailable):
        undo_last_judgment(reviewer=alice)


def test_skipping_a_submitted_assignment_changes_nothing(alice):
    assignment = lease(alice)
    submit(assignment)
    assert skip_assignment(assignment=assignment) is False
    assignment.comparison.refresh_from_db()
    assert assignment.comparison.taken == 1


@pytest.mark.parametrize("status", [Campaign.Status.CLOSED, Campaign.Status.DRAFT])
def test_a_campaign_that_is_no_longer_active_refuses_judgments_on_open_leases(alice, status):
    assignment = lease(alice)
    Campaign.objects.update(status=status)
    with pytest.raises(CampaignClosed) as refused:
        submit(assignment)
    assert refused.value.errors == {"campaign": f"this campaign is {status} and takes no judgments"}
    assert not Judgment.objects.exists()


@pytest.mark.parametrize("critique", ["x" * (CRITIQUE_MAX_LENGTH + 1), "a\x00b"])
def test_a_critique_too_long_or_with_a_nul_character_is_refused(alice, critique):
    with pytest.raises(JudgmentInvalid) as invalid:
        submit(lease(alice), choice="tie", critique=critique)
    assert set(invalid.value.errors) == {"critique"}
