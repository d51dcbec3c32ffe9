"""Quality dashboard reads: compact arrays (annotate/quality_load.py), numpy for the numbers, the cache to keep them.

Each campaign's report is cached with the *stamp* of the judgments it was computed from: on PostgreSQL a counter that
triggers bump whenever the campaign's judgments change (migration 0004: one indexed row read), elsewhere the latest
judgment id and the count. A page view compares stamps: equal, the cached report is served; different, the previous
report is still served at once (``updating``) while a Celery task computes the new one. With no earlier report
(never computed, or evicted), a small campaign is computed during the request and a big one by the task as well.

The cache must be shared by web processes and workers (settings ``CACHES``): the worker's report is what the web
process serves next.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from kombu.exceptions import OperationalError

from annotate.db import repeatable_read
from annotate.judge_agreement import judge_rows
from annotate.models import Campaign, Judgment, Outcome, ReviewerFlag
from annotate.quality_load import campaign_arrays
from annotate.quality_metrics import OUTCOMES, compute_quality
from annotate.sources import AI, DEFAULT_FILTER, HUMAN_SOURCES, sources_for

logger = logging.getLogger(__name__)

__all__ = ["campaign_arrays", "campaign_report", "campaign_report_state", "compute_campaign_report"]

BOOTSTRAP_RESAMPLES = 1000
CACHE_SECONDS = 7 * 24 * 3600
REPORT_VERSION = 3  # bump when the report's shape changes, so stale cached reports are never read
# A refresh is enqueued at most once per campaign while this lock lives; it outlasts a 1M-judgment compute by far,
# and expires on its own if a worker dies holding it, so the next page view enqueues again.
REFRESH_LOCK_SECONDS = 10 * 60

# A campaign seen for the first time is computed during the request only up to this size (well under a second);
# a bigger one shows "computing…" and polls like a stale report does.
SYNC_MAX_JUDGMENTS = 50_000


@dataclass(frozen=True)
class ReportState:
    report: dict | None  # None: never computed yet, a worker is on it
    updating: bool  # the report predates the latest judgments (or is missing); a fresh one is being computed


def _key(campaign_id: int, what: str, source: str) -> str:
    # The database's name too: one shared cache (Redis, files) may serve several databases (dev, bench, tests).
    # One report per source filter (human, ai, all); they share the campaign's stamp.
    return f"quality:v{REPORT_VERSION}:{connection.settings_dict['NAME']}:{campaign_id}:{source}:{what}"


def _stamp(campaign_id: int) -> tuple[str, int]:
    """(stamp, most judgments the campaign can have): the PostgreSQL version counts every insert, so it bounds the
    count from above; elsewhere the stamp holds the count itself."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version FROM quality_judgment_stamp WHERE campaign_id = %s", [campaign_id])
            row = cursor.fetchone()
        version = row[0] if row else 0
        return f"v{version}", version
    stamp = Judgment.objects.filter(comparison__campaign_id=campaign_id).aggregate(last=Max("id"), count=Count("id"))
    return f"{stamp['last'] or 0}-{stamp['count']}", stamp["count"]


def judgments_stamp(*, campaign_id: int) -> str:
    """Changes whenever a judgment of the campaign is added, changed or removed (one small query)."""
    return _stamp(campaign_id)[0]


def compute_campaign_report(*, campaign: Campaign, source: str = DEFAULT_FILTER) -> dict:
    """The report without the cache: arrays of the judgments the source filter keeps → numbers, plus reviewer
    names (one more query)."""
    arrays = campaign_arrays(campaign=campaign, sources=sources_for(source))
    report = compute_quality(arrays, overlap=campaign.overlap, n_resamples=BOOTSTRAP_RESAMPLES)
    # Every AI judge against the human majority, whichever source the rest of the report counts.
    judges = campaign_arrays(campaign=campaign, sources=(AI,))
    same = sources_for(source) == HUMAN_SOURCES
    humans = arrays if same else campaign_arrays(campaign=campaign, sources=HUMAN_SOURCES)
    report["judges"] = judge_rows(humans, judges) if len(judges) else []
    ids = {row["reviewer"] for row in report.get("reviewer_rows", [])} | {row["judge"] for row in report["judges"]}
    report["names"] = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return report


def _compute_and_store(campaign: Campaign, source: str) -> dict:
    # The stamp is read in the same snapshot as the arrays, so the stored pair always matches.
    with repeatable_read():
        stamp = judgments_stamp(campaign_id=campaign.pk)
        report = compute_campaign_report(campaign=campaign, source=source)
    cache.set(_key(campaign.pk, "report", source), {"stamp": stamp, "report": report}, CACHE_SECONDS)
    return report


def refresh_campaign_report(*, campaign_id: int, source: str = DEFAULT_FILTER) -> dict | None:
    """Compute the campaign's report and cache it (the Celery task's body); None if the campaign is gone.

    A report that is already fresh is kept: a duplicate delivery, or a second request queued after the lock
    expired behind a long task, costs one small query."""
    try:
        campaign = Campaign.objects.select_related("rubric").filter(pk=campaign_id).first()
        if campaign is None:
            return None
        cached = cache.get(_key(campaign_id, "report", source))
        if cached is not None and cached["stamp"] == judgments_stamp(campaign_id=campaign_id):
            return cached["report"]
        return _compute_and_store(campaign, source)
    finally:
        cache.delete(_key(campaign_id, "refresh", source))


def request_refresh(*, campaign_id: int, source: str = DEFAULT_FILTER) -> bool:
    """Enqueue a background recompute unless one is already on its way (a cache lock: page views race here)."""
    lock = _key(campaign_id, "refresh", source)
    if not cache.add(lock, True, REFRESH_LOCK_SECONDS):
        return False
    from annotate.tasks import refresh_quality_report  # tasks import this module

    def enqueue() -> None:
        try:
            refresh_quality_report.delay(campaign_id, source)
        except OperationalError:  # broker unreachable: keep showing what there is, let the next view try again
            logger.exception("quality: could not enqueue the refresh of campaign %s", campaign_id)
            cache.delete(lock)

    # delay_on_commit, with the broker's failure handled inside the callback (it may run after we return).
    transaction.on_commit(enqueue)
    return True


def campaign_report_state(*, campaign: Campaign, wait: bool = False, source: str = DEFAULT_FILTER) -> ReportState:
    """The campaign's report (of the judgments ``source`` keeps: human, ai or all) at once: fresh if no judgment
    changed since it was computed, else the previous one while a refresh runs. With no earlier report, a small
    campaign (or ``wait``) is computed during the call; a big one gets ``report=None`` while a worker computes it."""
    sources_for(source)  # an unknown filter fails here, before anything is cached or queued
    stamp, at_most = _stamp(campaign.pk)
    cached = cache.get(_key(campaign.pk, "report", source))
    if cached is not None:
        if cached["stamp"] == stamp:
            return ReportState(cached["report"], updating=False)
        request_refresh(campaign_id=campaign.pk, source=source)
        return ReportState(cached["report"], updating=True)
    if wait or at_most <= SYNC_MAX_JUDGMENTS:
        return ReportState(_compute_and_store(campaign, source), updating=False)
    request_refresh(campaign_id=campaign.pk, source=source)
    return ReportState(None, updating=True)


def campaign_report(*, campaign: Campaign, source: str = DEFAULT_FILTER) -> dict:
    """The campaign's latest report, possibly a little behind while a refresh runs; computed now if there is none
    (drill-down and CSV pages, reached from an overview that already has one)."""
    state = campaign_report_state(campaign=campaign, wait=True, source=source)
    return state.report if state.report is not None else _compute_and_store(campaign, source)


def flagged_reviewer_ids(*, campaign: Campaign) -> set[int]:
    """Reviewers with an active flag for this campaign or for every campaign (not cached: flags change any time)."""
    flags = ReviewerFlag.objects.filter(Q(campaign=campaign) | Q(campaign__isnull=True), active=True)
    return set(flags.values_list("reviewer_id", flat=True))


@dataclass(frozen=True)
class RecentJudgment:
    judgment: Judgment
    majority: str | None  # plurality outcome of the other reviewers; None when they are split or absent
    others: int

    @property
    def majority_label(self) -> str:
        return Outcome(self.majority).label if self.majority else ""

    @property
    def agrees(self) -> bool | None:
        return None if self.majority is None else self.judgment.outcome == self.majority


def recent_judgments_with_majority(
    *, campaign: Campaign, reviewer_id: int, limit: int = 50, source: str = DEFAULT_FILTER
) -> list[RecentJudgment]:
    """The reviewer's latest judgments, each beside the leave-one-out majority of the others the source filter keeps
    (two queries)."""
    judgments = list(
        Judgment.objects.filter(comparison__campaign=campaign, reviewer_id=reviewer_id)
        .select_related("comparison__prompt", "assignment")
        .order_by("-created_at", "-id")[:limit]
    )
    others: dict[int, Counter] = {}
    answered = [o for o in OUTCOMES if o != "escalate"]
    rows = (
        Judgment.objects.filter(
            comparison_id__in={j.comparison_id for j in judgments}, outcome__in=answered, source__in=sources_for(source)
        )
        .exclude(reviewer_id=reviewer_id)
        .values_list("comparison_id", "outcome")
    )
    for comparison_id, outcome in rows:
        others.setdefault(comparison_id, Counter())[outcome] += 1
    result = []
    for judgment in judgments:
        counts = others.get(judgment.comparison_id, Counter())
        ranked = counts.most_common(2)
        unique_top = bool(ranked) and (len(ranked) == 1 or ranked[0][1] > ranked[1][1])
        result.append(RecentJudgment(judgment, ranked[0][0] if unique_top else None, sum(counts.values())))
    return result
