"""Celery tasks of the annotate app: thin shells that pass ids to services."""

from __future__ import annotations

from celery import shared_task

from annotate import quality


# Not retried: a failed refresh leaves the previous report on show, and the next page view that finds it stale
# enqueues another once the lock is released (or expires).
@shared_task(name="annotate.tasks.refresh_quality_report", max_retries=0, ignore_result=True)
def refresh_quality_report(campaign_id: int) -> None:
    quality.refresh_campaign_report(campaign_id=campaign_id)
