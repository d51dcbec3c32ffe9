"""Training workers' presence: announced when a worker starts, beaten while it lives, retired when it stops."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from training.models import TrainingWorker
from training.selectors import live_workers_with_gpu


def worker_announce(*, name: str, device: str, device_name: str, memory_bytes: int | None) -> TrainingWorker:
    """A worker (re)starting under `name` records its device and counts as seen now."""
    now = timezone.now()
    worker, _ = TrainingWorker.objects.update_or_create(
        name=name,
        defaults={
            "device": device,
            "device_name": device_name,
            "memory_bytes": memory_bytes,
            "started_at": now,
            "last_seen_at": now,
            "stopped_at": None,
        },
    )
    return worker


def worker_seen(*, name: str) -> bool:
    """One beat: False when the row is gone or the worker was retired (it then announces itself again)."""
    return TrainingWorker.objects.filter(name=name, stopped_at__isnull=True).update(last_seen_at=timezone.now()) == 1


def worker_retire(*, name: str) -> None:
    """A clean shutdown: the worker stops counting as live at once instead of after TRAINING_STALE_AFTER_S."""
    TrainingWorker.objects.filter(name=name, stopped_at__isnull=True).update(stopped_at=timezone.now())


def device_problems(config: dict[str, Any]) -> list[str]:
    """At launch: a run asking for CUDA needs a live GPU worker now; one any worker can take may wait in the queue."""
    if config.get("device") != "cuda" or live_workers_with_gpu().exists():
        return []
    return [
        "device: cuda needs a GPU, and no live training worker has one; "
        "choose auto or cpu, or start a training worker on a GPU machine"
    ]
