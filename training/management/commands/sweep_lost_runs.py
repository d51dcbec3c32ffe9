"""Mark running runs and model jobs whose worker stopped beating as failed ("worker lost"): what Celery beat runs, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from training.services.sweep import lost_work_mark


class Command(BaseCommand):
    help = (
        "Fail running runs and generation, judge and margin jobs whose heartbeat is older than TRAINING_STALE_AFTER_S "
        "(Celery beat runs it every few seconds)."
    )

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{lost_work_mark()} run(s) and job(s) marked worker lost")
