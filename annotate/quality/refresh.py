"""Which quality report a page view gets now, and the background refresh it may start.

A page view compares the cached report's stamp with the judgments' (``store``): equal, the cached report is served;
different, the previous report is still served at once (``updating``) while a Celery task computes the new one. With
no earlier report, a small campaign is computed during the request and a big one by the task as well.

Import direction: views → this module → ``annotate.tasks`` → ``store``; ``store`` never imports the tasks, so there
is no circle (the old single module imported the tasks inside a function to dodge one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from kombu.exceptions import OperationalError

from annotate.models import Campaign
from annotate.quality import store
from annotate.sources import DEFAULT_FILTER, sources_for
from annotate.tasks import refresh_quality_report

logger = logging.getLogger(__name__)

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


def request_refresh(*, campaign_id: int, source: str = DEFAULT_FILTER) -> bool:
    """Enqueue a background recompute unless one is already on its way (a cache lock: page views race here)."""
    lock = store.report_key(campaign_id, "refresh", source)
    if not cache.add(lock, True, REFRESH_LOCK_SECONDS):
        return False

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
    stamp, at_most = store.stamp_and_bound(campaign.pk)
    cached = store.cached_report(campaign_id=campaign.pk, source=source)
    if cached is not None:
        if cached["stamp"] == stamp:
            return ReportState(cached["report"], updating=False)
        request_refresh(campaign_id=campaign.pk, source=source)
        return ReportState(cached["report"], updating=True)
    if wait or at_most <= SYNC_MAX_JUDGMENTS:
        return ReportState(store.compute_and_store(campaign, source), updating=False)
    request_refresh(campaign_id=campaign.pk, source=source)
    return ReportState(None, updating=True)


def campaign_report(*, campaign: Campaign, source: str = DEFAULT_FILTER) -> dict:
    """The campaign's latest report, possibly a little behind while a refresh runs; computed now if there is none
    (drill-down and CSV pages, reached from an overview that already has one)."""
    state = campaign_report_state(campaign=campaign, wait=True, source=source)
    return state.report if state.report is not None else store.compute_and_store(campaign, source)
