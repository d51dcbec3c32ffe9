"""Celery tasks of the annotate app: thin shells that pass ids to services."""

from __future__ import annotations

from celery import shared_task

from annotate.quality import store
from annotate.services import export_jobs
from annotate.sources import DEFAULT_FILTER


# Not retried: a failed refresh leaves the previous report on show, and the next page view that finds it stale
# enqueues another once the lock is released (or expires).
@shared_task(name="annotate.tasks.refresh_quality_report", max_retries=0, ignore_result=True)
def refresh_quality_report(campaign_id: int, source: str = DEFAULT_FILTER) -> None:
    store.refresh_campaign_report(campaign_id=campaign_id, source=source)


# Never retried and acknowledged on receipt: an export is delivered at most once, and the claim in
# export_job_execute makes even a duplicate delivery do nothing. A failure is recorded on the job.
@shared_task(name="annotate.tasks.run_export_job", acks_late=False, max_retries=0, ignore_result=True)
def run_export_job(job_id: int) -> str | None:
    return export_jobs.export_job_execute(job_id=job_id)
