"""Handing out comparison slots to reviewers: leases, overlap, position balance and gold items.

The pool. `Comparison.taken` counts the slots a pair holds: submitted judgments plus leases not yet swept (state
"leased", live or expired). Every change of an assignment's state changes `taken` in the same transaction, so a
regular pair is open while `taken < campaign.overlap`, and candidates come from one range scan of the partial index
`review_pool_idx (campaign, -taken, tiebreak) WHERE gold_outcome = ''`: fullest pairs first so finished pairs
accumulate, ties in a random order fixed when the pair was created (`tiebreak`).

Expired leases return to the pool lazily: each call sweeps expired leases (a small partial index) before choosing.
A reviewer never gets a pair they had before in any state (judged, held, skipped or let expire), so a skipped pair
does not come straight back.

Gold. With probability `campaign.gold_rate` a call first offers a gold pair the reviewer has not seen yet. Gold pairs
ignore overlap (every reviewer may judge each gold pair once: that is what makes per-reviewer accuracy comparable)
and are not counted as campaign work. Gold is mixed into real work only: when no regular pair is left for a reviewer,
the queue is empty even if unseen gold remains.

Concurrency (PostgreSQL): the reviewer's user row is locked first, so one reviewer's requests run one at a time
(no double leases, no pair twice); the chosen pair is locked with `SELECT ... FOR UPDATE SKIP LOCKED`, so two
reviewers never wait on or over-fill the same pair; the re-check of `taken < overlap` on the locked row version is
PostgreSQL's. Lock order everywhere: user, assignment, comparison. On SQLite writers are serialized by the database.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.models import Assignment, Campaign, Comparison, Qualification

HELD_STATES = (Assignment.State.LEASED, Assignment.State.SUBMITTED)
SWEEP_BATCH = 100


# What a lease is shown with, and no more: the blind pair (prompt, both texts) and the lease itself. Whole rows
# (candidate metadata, prompt tags) cost a good part of a call's CPU to compile, fetch and build.
PAIR_FIELDS = ("campaign", "taken", "prompt__text", "prompt__messages", "candidate_a__text", "candidate_b__text")
LEASE_FIELDS = (
    *("reviewer", "comparison", "a_on_left", "state", "leased_at", "expires_at"),
    *(f"comparison__{field}" for field in PAIR_FIELDS),
)


def live_lease(*, reviewer: AbstractBaseUser, campaign: Campaign) -> Assignment | None:
    return (
        Assignment.objects.select_related("comparison__prompt", "comparison__candidate_a", "comparison__candidate_b")
        .only(*LEASE_FIELDS)
        .filter(
            reviewer=reviewer,
            state=Assignment.State.LEASED,
            expires_at__gt=timezone.now(),
            comparison__campaign=campaign,
        )
        .order_by("id")
        .first()
    )


@transaction.atomic
def assign_next_pair(*, reviewer: AbstractBaseUser, campaign: Campaign) -> Assignment | None:
    """The reviewer's live lease in this campaign, or a new lease on the best open pair, or None when none is left."""
    if campaign.status != Campaign.Status.ACTIVE:
        return None
    # One reviewer's requests in turn: two tabs asking at once must not get two leases.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=reviewer.pk).exists()
    current = live_lease(reviewer=reviewer, campaign=campaign)
    if current is not None:
        return current
    _release_expired(durable=False)

    locale_ids = _qualified_locales(reviewer)
    comparison = None
    if (
        campaign.gold_rate > 0
        and random.random() < campaign.gold_rate
        and _has_open_regular(reviewer, campaign, locale_ids)
    ):
        comparison = _claim(_open_gold(reviewer, campaign, locale_ids))
    if comparison is None:
        comparison = _claim(_open_regular(reviewer, campaign, locale_ids))
    if comparison is None:
        return None
    Comparison.objects.filter(pk=comparison.pk).update(taken=F("taken") + 1)
    now = timezone.now()
    return Assignment.objects.create(
        reviewer=reviewer,
        comparison=comparison,
        a_on_left=balanced_a_on_left(a_left_lead=comparison.a_left_lead),
        leased_at=now,
        expires_at=now + timedelta(minutes=campaign.lease_minutes),
    )


def has_work(*, reviewer: AbstractBaseUser, campaign: Campaign) -> bool:
    """Whether `assign_next_pair` would give this reviewer something now (a read: nothing is leased)."""
    if live_lease(reviewer=reviewer, campaign=campaign) is not None:
        return True
    return campaign.status == Campaign.Status.ACTIVE and _has_open_regular(
        reviewer, campaign, _qualified_locales(reviewer)
    )


def _qualified_locales(reviewer: AbstractBaseUser):
    # A subquery, not a list: the locale gate rides along in the candidate query instead of costing a round trip.
    return Qualification.objects.filter(reviewer=reviewer).values("locale_id")


def _not_seen_by(reviewer: AbstractBaseUser) -> Q:
    # Any earlier assignment counts, skipped ones included: a skipped pair must not come straight back.
    return ~Q(Exists(Assignment.objects.filter(comparison=OuterRef("pk"), reviewer=reviewer)))


def _open_regular(reviewer, campaign: Campaign, locale_ids):
    return Comparison.objects.filter(
        _not_seen_by(reviewer),
        campaign=campaign,
        gold_outcome="",
        taken__lt=campaign.overlap,
        prompt__locale_id__in=locale_ids,
    ).order_by("-taken", "tiebreak")


def _open_gold(reviewer, campaign: Campaign, locale_ids):
    start = random.randrange(2**31 - 1)  # a random point on the tiebreak circle, so gold order differs per call
    gold = Comparison.objects.filter(
        _not_seen_by(reviewer), campaign=campaign, prompt__locale_id__in=locale_ids
    ).exclude(gold_outcome="")
    after = gold.filter(tiebreak__gte=start).order_by("tiebreak")
    return after if after.exists() else gold.order_by("tiebreak")


def _has_open_regular(reviewer, campaign: Campaign, locale_ids) -> bool:
    return _open_regular(reviewer, campaign, locale_ids).exists()


def _claim(candidates) -> Comparison | None:
    """Lock the first open pair nobody else is locking; it comes with what the page shows and its left/right balance
    (SELECT-list subqueries run for the returned row only), so a new lease costs no further reads."""
    return (
        candidates.select_related("prompt", "candidate_a", "candidate_b")
        .only(*PAIR_FIELDS)
        .annotate(a_left_lead=_a_left_lead())
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )


def _a_left_lead():
    """Held slots showing A on the left minus those showing B on the left: one subquery, run for the returned row."""
    held = Assignment.objects.filter(comparison=OuterRef("pk"), state__in=HELD_STATES)
    lead = held.values("comparison").annotate(n=Sum(Case(When(a_on_left=True, then=1), default=-1))).values("n")
    return Coalesce(Subquery(lead[:1]), 0)


def balanced_a_on_left(*, a_left_lead: int) -> bool:
    """The order this pair's held slots have shown less often; a coin flip when both are even."""
    if a_left_lead == 0:
        return random.random() < 0.5
    return a_left_lead < 0


def release_expired_leases() -> int:
    """Return expired leases' slots to the pool; returns how many were released."""
    return _release_expired(durable=True)


def _release_expired(*, durable: bool) -> int:
    """Sweep up to SWEEP_BATCH expired leases. `durable=False` (a new lease's transaction) also turns off this
    transaction's wait for its WAL flush on PostgreSQL: a lease need not survive a database crash (the reviewer just
    asks again) and that fsync was most of a lease's latency; judgments keep the durable default."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(SWEEP_SQL, {"now": now, "batch": SWEEP_BATCH, "durable": durable})
            return cursor.fetchone()[0]
    expired = list(
        Assignment.objects.filter(state=Assignment.State.LEASED, expires_at__lte=now).values_list(
            "id", "comparison_id"
        )[:SWEEP_BATCH]
    )
    released = 0
    for assignment_id, comparison_id in expired:
        # The conditional update is the claim: on SQLite two sweepers may read the same row, only one changes it.
        if Assignment.objects.filter(id=assignment_id, state=Assignment.State.LEASED).update(
            state=Assignment.State.RELEASED
        ):
            Comparison.objects.filter(pk=comparison_id).update(taken=F("taken") - 1)
            released += 1
    return released


# One round trip on PostgreSQL, usually finding nothing: lock expired leases nobody else is sweeping, release them,
# give their slots back (lock order assignment, comparison, as everywhere), and set synchronous_commit for this
# transaction (`set_config(..., true)` is SET LOCAL). Data-modifying CTEs run to completion even when unread.
SWEEP_SQL = f"""
WITH expired AS (
    SELECT id FROM {Assignment._meta.db_table}
    WHERE state = 'leased' AND expires_at <= %(now)s
    ORDER BY id LIMIT %(batch)s FOR UPDATE SKIP LOCKED
), released AS (
    UPDATE {Assignment._meta.db_table} AS a SET state = 'released' FROM expired
    WHERE a.id = expired.id RETURNING a.comparison_id
), returned AS (
    UPDATE {Comparison._meta.db_table} AS c SET taken = c.taken - freed.n
    FROM (SELECT comparison_id, count(*) AS n FROM released GROUP BY comparison_id) AS freed
    WHERE c.id = freed.comparison_id
)
SELECT (SELECT count(*) FROM released),
    set_config('synchronous_commit', CASE WHEN %(durable)s THEN current_setting('synchronous_commit') ELSE 'off' END, true)
"""


@transaction.atomic
def skip_assignment(*, assignment: Assignment) -> bool:
    """Give the slot back to the pool; True when a live or expired lease was released."""
    if not Assignment.objects.filter(pk=assignment.pk, state=Assignment.State.LEASED).update(
        state=Assignment.State.RELEASED
    ):
        return False
    Comparison.objects.filter(pk=assignment.comparison_id).update(taken=F("taken") - 1)
    assignment.state = Assignment.State.RELEASED
    return True


def slots_held_by_others(*, assignment: Assignment) -> int:
    """Judgments plus live leases on this assignment's pair, not counting the assignment itself."""
    now = timezone.now()
    return (
        Assignment.objects.filter(comparison_id=assignment.comparison_id)
        .exclude(pk=assignment.pk)
        .filter(Q(state=Assignment.State.SUBMITTED) | Q(state=Assignment.State.LEASED, expires_at__gt=now))
        .count()
    )
