"""Who gets which pair: locale gating, overlap, no repeats, fullest first, leases, position balance, gold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.models import Assignment, Campaign, Comparison
from annotate.services.assignment import assign_next_pair, release_expired_leases, skip_assignment
from annotate.services.judging import submit_judgment
from tests.annotate.review_helpers import campaign_with_pairs
from tests.factories import (
    AssignmentFactory,
    CampaignFactory,
    ComparisonFactory,
    JudgmentFactory,
    LocaleFactory,
    PromptFactory,
    QualificationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def reviewer(name: str, *locales: str):
    user = UserFactory(username=name, role="reviewer")
    for code in locales or ("en-US",):
        QualificationFactory(reviewer=user, locale=LocaleFactory(code=code))
    return user


def judge(assignment: Assignment, choice: str = "tie"):
    return submit_judgment(
        assignment=assignment, choice=choice, strength="", ratings={}, critique="", time_taken_ms=1000
    )[0]


def test_it_only_assigns_prompts_in_a_locale_the_reviewer_is_qualified_for(alice):
    campaign = CampaignFactory(locales=[LocaleFactory(code="en-US"), LocaleFactory(code="ja-JP")])
    ComparisonFactory(prompt=PromptFactory(campaign=campaign, locale=LocaleFactory(code="ja-JP")))
    assert assign_next_pair(reviewer=alice, campaign=campaign) is None

    english = ComparisonFactory(prompt=PromptFactory(campaign=campaign, locale=LocaleFactory(code="en-US")))
    assert assign_next_pair(reviewer=alice, campaign=campaign).comparison == english


def test_it_gives_nothing_to_a_reviewer_without_qualifications():
    campaign, _ = campaign_with_pairs(2)
    assert assign_next_pair(reviewer=UserFactory(username="nobody", role="reviewer"), campaign=campaign) is None


def test_it_gives_nothing_from_a_closed_campaign(alice):
    campaign, _ = campaign_with_pairs(2, status=Campaign.Status.CLOSED)
    assert assign_next_pair(reviewer=alice, campaign=campaign) is None


def test_asking_again_while_holding_a_live_lease_returns_the_same_assignment(alice):
    campaign, _ = campaign_with_pairs(3)
    first = assign_next_pair(reviewer=alice, campaign=campaign)
    assert assign_next_pair(reviewer=alice, campaign=campaign) == first
    assert Assignment.objects.count() == 1


def test_it_never_gives_a_pair_more_judgments_and_leases_than_its_overlap(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=2)
    judge(assign_next_pair(reviewer=alice, campaign=campaign))
    held = assign_next_pair(reviewer=bob, campaign=campaign)
    assert held.comparison == pair
    assert assign_next_pair(reviewer=reviewer("carol"), campaign=campaign) is None
    pair.refresh_from_db()
    assert pair.taken == 2


def test_it_never_repeats_a_pair_the_reviewer_judged(alice):
    campaign, pairs = campaign_with_pairs(3, overlap=3)
    seen = []
    while (assignment := assign_next_pair(reviewer=alice, campaign=campaign)) is not None:
        seen.append(assignment.comparison_id)
        judge(assignment)
    assert sorted(seen) == sorted(p.pk for p in pairs)


def test_it_offers_the_pair_closest_to_completion_first(alice, bob):
    campaign, pairs = campaign_with_pairs(5, overlap=3)
    nearly_done = pairs[3]
    JudgmentFactory(comparison=nearly_done, reviewer=reviewer("carol"))
    JudgmentFactory(comparison=nearly_done, reviewer=reviewer("dave"))
    half_done = pairs[1]
    JudgmentFactory(comparison=half_done, reviewer=reviewer("erin"))

    assert assign_next_pair(reviewer=alice, campaign=campaign).comparison == nearly_done
    assert assign_next_pair(reviewer=bob, campaign=campaign).comparison == half_done


def test_ties_are_broken_at_random_across_campaigns():
    orders = set()
    for _ in range(6):
        campaign, pairs = campaign_with_pairs(6, overlap=1)
        first = assign_next_pair(reviewer=reviewer(f"r{len(orders)}-{campaign.pk}"), campaign=campaign)
        orders.add(pairs.index(first.comparison))
    assert len(orders) > 1


def test_an_expired_lease_returns_its_slot_to_the_pool(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=1)
    lease = assign_next_pair(reviewer=alice, campaign=campaign)
    assert assign_next_pair(reviewer=bob, campaign=campaign) is None

    Assignment.objects.filter(pk=lease.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    taken_by_bob = assign_next_pair(reviewer=bob, campaign=campaign)
    assert taken_by_bob.comparison == pair
    lease.refresh_from_db()
    assert lease.state == Assignment.State.RELEASED
    pair.refresh_from_db()
    assert pair.taken == 1


def test_a_lease_lasts_the_campaigns_lease_minutes(alice):
    campaign, _ = campaign_with_pairs(1, lease_minutes=7)
    lease = assign_next_pair(reviewer=alice, campaign=campaign)
    assert timedelta(minutes=6, seconds=59) < lease.expires_at - lease.leased_at <= timedelta(minutes=7)


def test_sweeping_twice_releases_an_expired_lease_once(alice):
    campaign, [pair] = campaign_with_pairs(1)
    AssignmentFactory(reviewer=alice, comparison=pair, expires_at=timezone.now() - timedelta(minutes=1))
    assert release_expired_leases() == 1
    assert release_expired_leases() == 0
    pair.refresh_from_db()
    assert pair.taken == 0


def test_skipping_releases_the_slot_and_the_pair_is_not_offered_again_to_the_skipper(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=1)
    lease = assign_next_pair(reviewer=alice, campaign=campaign)
    assert skip_assignment(assignment=lease) is True
    assert assign_next_pair(reviewer=alice, campaign=campaign) is None
    assert assign_next_pair(reviewer=bob, campaign=campaign).comparison == pair


def test_left_and_right_are_balanced_across_a_pairs_reviewers():
    for _ in range(3):
        campaign, [pair] = campaign_with_pairs(1, overlap=4)
        sides = [assign_next_pair(reviewer=reviewer(f"b{pair.pk}-{i}"), campaign=campaign).a_on_left for i in range(4)]
        assert sorted(sides) == [False, False, True, True]


def test_the_left_right_order_is_randomized_per_assignment():
    firsts = set()
    for i in range(12):
        campaign, _ = campaign_with_pairs(1, overlap=1)
        firsts.add(assign_next_pair(reviewer=reviewer(f"coin{i}"), campaign=campaign).a_on_left)
    assert firsts == {True, False}


def test_gold_pairs_are_mixed_in_at_the_gold_rate(alice):
    campaign, pairs = campaign_with_pairs(2, gold=1, gold_rate=1.0)
    gold = pairs[-1]
    assert assign_next_pair(reviewer=alice, campaign=campaign).comparison == gold


def test_gold_pairs_are_never_served_at_a_zero_gold_rate(alice):
    campaign, pairs = campaign_with_pairs(2, gold=2, gold_rate=0.0)
    served = []
    while (assignment := assign_next_pair(reviewer=alice, campaign=campaign)) is not None:
        served.append(assignment.comparison)
        judge(assignment)
    assert served and all(not c.is_gold for c in served)


def test_every_reviewer_may_judge_a_gold_pair_once_regardless_of_overlap():
    campaign, pairs = campaign_with_pairs(3, overlap=1, gold=1, gold_rate=1.0)
    gold = pairs[-1]
    for i in range(3):
        someone = reviewer(f"g{i}")
        first = assign_next_pair(reviewer=someone, campaign=campaign)
        assert first.comparison == gold
        judge(first)
        assert assign_next_pair(reviewer=someone, campaign=campaign).comparison != gold
    assert Comparison.objects.get(pk=gold.pk).judgments.count() == 3


def test_gold_is_not_served_once_no_regular_work_is_left(alice):
    campaign, _ = campaign_with_pairs(0, gold=2, gold_rate=1.0)
    assert assign_next_pair(reviewer=alice, campaign=campaign) is None


def test_a_lease_in_one_campaign_does_not_hold_back_another(alice):
    first, _ = campaign_with_pairs(1)
    second, _ = campaign_with_pairs(1)
    in_first = assign_next_pair(reviewer=alice, campaign=first)
    in_second = assign_next_pair(reviewer=alice, campaign=second)
    assert in_second is not None and in_second != in_first
    assert in_second.comparison.campaign == second


def test_a_live_lease_of_someone_else_is_never_swept(alice, bob):
    campaign, [pair] = campaign_with_pairs(1, overlap=1)
    lease = assign_next_pair(reviewer=alice, campaign=campaign)
    assert release_expired_leases() == 0
    lease.refresh_from_db()
    assert lease.state == Assignment.State.LEASED
    assert assign_next_pair(reviewer=bob, campaign=campaign) is None
