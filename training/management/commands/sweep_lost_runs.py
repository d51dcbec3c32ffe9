"""Mark running runs whose worker stopped beating as failed ("worker lost"): what Celery beat runs, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from training.services.lifecycle import runs_mark_lost


class Command(BaseCommand):
    help = "Fail running runs whose heartbeat is older than TRAINING_STALE_AFTER_S (Celery beat runs it every few seconds)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"{runs_mark_lost()} run(s) marked worker lost")
