from __future__ import annotations

from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from training import workers

        # Celery's worker signals: a training worker announces itself and beats (a no-op in web processes).
        workers.connect_signals()
