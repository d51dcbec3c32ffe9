"""The cached quality report: compact arrays (``load``), numpy for the numbers (``metrics``), the cache to keep them.

Each campaign's report is cached with the *stamp* of the judgments it was computed from: on PostgreSQL a counter that
triggers bump whenever the campaign's judgments change (migration 0004: one indexed row read), elsewhere the latest
judgment id and the count. A page view compares stamps: equal, the cached report is served; different, the previous
report is still served at once (``updating``) while a Celery task computes the new one. With no earlier report
(never computed, or evicted), a small campaign is computed during the request and a big one by the task as well.

The cache must be shared by web processes and workers (settings ``CACHES``): the worker's report is what the web
process serves next. ``refresh`` decides what a page view gets and enqueues the task; this module is the task's body
and never imports the tasks.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max

from annotate.db import repeatable_read
from annotate.models import Campaign, Judgment
from annotate.quality.judges import judge_rows
from annotate.quality.load import campaign_arrays
from annotate.quality.metrics import compute_quality
from annotate.sources import AI, DEFAULT_FILTER, HUMAN_SOURCES, sources_for

BOOTSTRAP_RESAMPLES = 1000
CACHE_SECONDS = 7 * 24 * 3600
REPORT_VERSION = 4  # bump when the report's shape changes, so stale cached reports are never read


def report_key(campaign_id: int, what: str, source: str) -> str:
    # The database's name too: one shared cache (Redis, files) may serve several databases (dev, bench, tests).
    # One report per source filter (human, ai, all); they share the campaign's stamp. The too-fast floor too: a new
    # setting shows at once instead of after the next judgment.
    database, floor = connection.settings_dict["NAME"], settings.VERDICT_TOO_FAST_MS
    return f"quality:v{REPORT_VERSION}:{database}:fast{floor}:{campaign_id}:{source}:{what}"


def stamp_and_bound(campaign_id: int) -> tuple[str, int]:
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
    return stamp_and_bound(campaign_id)[0]


def compute_campaign_report(*, campaign: Campaign, source: str = DEFAULT_FILTER) -> dict:
    """The report without the cache: arrays of the judgments the source filter keeps → numbers, plus reviewer
    names (one more query)."""
    arrays = campaign_arrays(campaign=campaign, sources=sources_for(source))
    report = compute_quality(
        arrays, overlap=campaign.overlap, n_resamples=BOOTSTRAP_RESAMPLES, too_fast_ms=settings.VERDICT_TOO_FAST_MS
    )
    # Every AI judge against the human majority, whichever source the rest of the report counts.
    judges = campaign_arrays(campaign=campaign, sources=(AI,))
    same = sources_for(source) == HUMAN_SOURCES
    humans = arrays if same else campaign_arrays(campaign=campaign, sources=HUMAN_SOURCES)
    report["judges"] = judge_rows(humans, judges) if len(judges) else []
    ids = {row["reviewer"] for row in report.get("reviewer_rows", [])} | {row["judge"] for row in report["judges"]}
    report["names"] = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    return report


def compute_and_store(campaign: Campaign, source: str) -> dict:
    # The stamp is read in the same snapshot as the arrays, so the stored pair always matches.
    with repeatable_read():
        stamp = judgments_stamp(campaign_id=campaign.pk)
        report = compute_campaign_report(campaign=campaign, source=source)
    cache.set(report_key(campaign.pk, "report", source), {"stamp": stamp, "report": report}, CACHE_SECONDS)
    return report


def refresh_campaign_report(*, campaign_id: int, source: str = DEFAULT_FILTER) -> dict | None:
    """Compute the campaign's report and cache it (the Celery task's body); None if the campaign is gone.

    A report that is already fresh is kept: a duplicate delivery, or a second request queued after the lock
    expired behind a long task, costs one small query."""
    try:
        campaign = Campaign.objects.select_related("rubric").filter(pk=campaign_id).first()
        if campaign is None:
            return None
        cached = cache.get(report_key(campaign_id, "report", source))
        if cached is not None and cached["stamp"] == judgments_stamp(campaign_id=campaign_id):
            return cached["report"]
        return compute_and_store(campaign, source)
    finally:
        cache.delete(report_key(campaign_id, "refresh", source))


def cached_report(*, campaign_id: int, source: str) -> dict | None:
    """What the cache holds for the campaign and filter: ``{"stamp", "report"}``, or None."""
    return cache.get(report_key(campaign_id, "report", source))
