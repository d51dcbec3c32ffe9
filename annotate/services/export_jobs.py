"""Export jobs: a lead's export request, run in a Celery worker with a progress bar, or inline when it is small.

At a million judgments an export takes close to a minute, past a web worker's timeout, so the page and the API
queue an `ExportJob` and poll it. Exports under `settings.EXPORT_INLINE_MAX_JUDGMENTS` judgments (counted with one
COUNT that stops at that many) still run inside the request: a demo-sized export lands straight on its snapshot.

Pairs done while a job runs go to the shared cache rather than the job's row: the export reads inside one long
(repeatable-read) transaction, and a row update from a second connection would, on SQLite, wait for that
transaction's read lock to go.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from annotate.export_policy import ExportPolicy
from annotate.models import Campaign, Comparison, ExportJob, Judgment
from annotate.services.exporting import ExportError, snapshot_create

logger = logging.getLogger(__name__)


def _progress_key(job_id: int) -> str:
    # The database name keeps parallel test runs (one database each) from reading each other's figures.
    return f"export-job:{connection.settings_dict['NAME']}:{job_id}:done"


def export_job_create(
    *, campaigns: Iterable[Campaign], policy: ExportPolicy, requested_by: AbstractBaseUser | None
) -> ExportJob:
    """Record the export request and run it: inline when small, else queued for `annotate.tasks.run_export_job`.

    `policy` has already been validated (`ExportPolicy.from_dict` raised for bad knobs); an empty campaign list raises
    ExportError before anything is recorded. Returns the job, finished if it ran inline.
    """
    campaigns = list({campaign.id: campaign for campaign in campaigns}.values())
    if not campaigns:
        raise ExportError("campaigns: choose at least one campaign to export")
    campaign_ids = [campaign.id for campaign in campaigns]
    # Counting stops at the threshold (COUNT over a LIMIT): a million judgments cost no more than twenty thousand.
    limit = settings.EXPORT_INLINE_MAX_JUDGMENTS
    large = Judgment.objects.filter(comparison__campaign_id__in=campaign_ids)[:limit].count() >= limit
    with transaction.atomic():
        job = ExportJob.objects.create(
            policy=policy.to_dict(),
            requested_by=requested_by if getattr(requested_by, "pk", None) else None,
            total_pairs=Comparison.objects.filter(campaign_id__in=campaign_ids).count(),
        )
        job.campaigns.set(campaigns)
        if large:
            from annotate.tasks import run_export_job

            run_export_job.delay_on_commit(job.id)
            return job
    export_job_execute(job_id=job.id)
    job.refresh_from_db()
    return job


def export_job_claim(*, job_id: int) -> bool:
    """queued → running by conditional update: a second delivery of the same task claims nothing."""
    claimed = ExportJob.objects.filter(id=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now()
    )
    return claimed == 1


class _ProgressWriter:
    """The callback `snapshot_create` calls per pair: writes the count at most every `interval_s` seconds."""

    def __init__(self, job_id: int, *, interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.key = _progress_key(job_id)
        self.interval_s = interval_s
        self.clock = clock
        self.last = float("-inf")

    def __call__(self, pairs_done: int) -> None:
        now = self.clock()
        if now - self.last >= self.interval_s:
            self.last = now
            cache.set(self.key, pairs_done, timeout=24 * 3600)


def _finish(job_id: int, status: str, **fields) -> None:
    ExportJob.objects.filter(id=job_id, status=ExportJob.Status.RUNNING).update(
        status=status, finished_at=timezone.now(), **fields
    )
    cache.delete(_progress_key(job_id))


def export_job_execute(*, job_id: int) -> str | None:
    """Claim the job and export it; returns the final status, or None if another delivery had it."""
    if not export_job_claim(job_id=job_id):
        return None
    job = ExportJob.objects.get(id=job_id)
    progress = _ProgressWriter(job.id, interval_s=settings.EXPORT_PROGRESS_INTERVAL_S)
    try:
        snapshot = snapshot_create(
            campaigns=job.campaigns.select_related("rubric"),
            policy=ExportPolicy.from_dict(job.policy),
            created_by=job.requested_by,
            progress=progress,
        )
    except ExportError as exc:
        _finish(job.id, ExportJob.Status.FAILED, error=str(exc))
        return ExportJob.Status.FAILED
    except Exception as exc:  # recorded on the job for the lead to read; the task never retries
        logger.exception("export job %s failed", job.id)
        _finish(job.id, ExportJob.Status.FAILED, error=f"the export failed ({type(exc).__name__}: {exc}); try again")
        return ExportJob.Status.FAILED
    pairs = snapshot.manifest.get("counts", {}).get("pairs", job.total_pairs)
    _finish(job.id, ExportJob.Status.SUCCEEDED, snapshot=snapshot, pairs_done=pairs, total_pairs=pairs)
    return ExportJob.Status.SUCCEEDED


def export_job_progress(*, job: ExportJob) -> tuple[int, int]:
    """(pairs done, total pairs) as the progress bar shows them."""
    if job.status == ExportJob.Status.RUNNING:
        done = cache.get(_progress_key(job.id)) or 0
        return min(done, job.total_pairs), job.total_pairs
    return job.pairs_done, job.total_pairs
