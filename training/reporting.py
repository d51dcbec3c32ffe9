"""The engine's Reporter, backed by the database: throttled progress writes, per-step metrics, cancellation.

The engine calls `log` after every optimizer step; writing each one would make a fast run database-bound, so rows
are buffered and written at most every `interval_s` seconds, and always for the last step, an eval step or a
checkpoint. A separate heartbeat thread keeps `heartbeat_at` fresh while the engine is busy between steps (loading a
model, evaluating), so only a dead worker goes stale. Both write through `training.services.lifecycle`, the one
writer of a run's state; the reporter writes progress only.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from training.models import RunMetric, TrainingRun
from training.services import lifecycle

LOG_LINES = 200


def json_safe(value: Any) -> Any:
    """NaN and infinities become null: JSON columns (PostgreSQL jsonb) refuse them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _summary(step: int, total: int | None, metrics: dict[str, Any]) -> str:
    shown = [f"step {step}/{total or '?'}"]
    for key, label in (("loss", "loss"), ("rewards/accuracies", "acc"), ("rewards/margins", "margin")):
        if metrics.get(key) is not None:
            shown.append(f"{label}={metrics[key]:.4f}")
    evals = {k: v for k, v in metrics.items() if k.startswith("eval/") and v is not None}
    if "eval/rewards/accuracies" in evals:
        shown.append(f"eval_acc={evals['eval/rewards/accuracies']:.3f}")
    if metrics.get("pairs_per_s") is not None:
        shown.append(f"{metrics['pairs_per_s']:.1f} pairs/s")
    return " ".join(shown)


class DatabaseReporter:
    """Implements training.engine.Reporter for one TrainingRun row."""

    def __init__(
        self,
        *,
        run_id: int,
        attempt: int | None = None,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.run_id = run_id
        self.interval_s = interval_s
        self.clock = clock
        run = TrainingRun.objects.only("log", "latest_metrics", "attempt").get(id=run_id)
        self.attempt = run.attempt if attempt is None else attempt
        self._lines = run.log.splitlines()
        self._latest: dict[str, Any] = dict(run.latest_metrics or {})
        self._pending: list[RunMetric] = []
        self._total: int | None = None
        self._step: int | None = None
        self._checkpoint_step: int | None = None
        self._first_log = True
        self._last_write = -math.inf
        self._last_check = -math.inf
        self._stop = False

    # -- the Reporter protocol --

    def start(self, total_steps: int) -> None:
        self._total = total_steps
        self.note(f"training for {total_steps} steps")
        self.flush()

    def log(self, step: int, metrics: dict[str, float]) -> None:
        if self._first_log:
            lifecycle.run_forget_metrics_from(run_id=self.run_id, attempt=self.attempt, step=step)
            self._first_log = False
        clean = json_safe(metrics)
        self._pending.append(RunMetric(run_id=self.run_id, step=step, metrics=clean))
        self._latest.update(clean)
        self._step = step
        is_eval = any(key.startswith("eval/") for key in clean)
        if is_eval or step == self._total or self.clock() - self._last_write >= self.interval_s:
            self.note(_summary(step, self._total, clean))
            self.flush()

    def should_stop(self) -> bool:
        if not self._stop and self.clock() - self._last_check >= self.interval_s:
            self._last_check = self.clock()
            row = TrainingRun.objects.filter(id=self.run_id).values("cancel_requested", "status", "attempt").first()
            # Stop too when the run is no longer ours (declared lost, maybe resumed elsewhere): a checkpoint is saved
            # on the way out.
            self._stop = (
                row is None
                or row["cancel_requested"]
                or row["status"] != TrainingRun.Status.RUNNING
                or row["attempt"] != self.attempt
            )
        return self._stop

    def checkpoint(self, step: int, path: str) -> None:
        self._checkpoint_step = step
        self.note(f"checkpoint saved at step {step}")
        self.flush()

    # -- Verdict's additions --

    def note(self, line: str) -> None:
        self._lines.append(f"{timezone.now():%H:%M:%S} {line}")
        self._lines = self._lines[-LOG_LINES:]

    def flush(self) -> None:
        fields: dict[str, Any] = {"log": "\n".join(self._lines)}
        if self._total is not None:
            fields["total_steps"] = self._total
        if self._step is not None:
            fields.update(
                step=self._step,
                latest_metrics=self._latest,
                eta_seconds=self._latest.get("eta_s"),
                pairs_per_second=self._latest.get("pairs_per_s"),
            )
        if self._checkpoint_step is not None:
            fields["checkpoint_step"] = self._checkpoint_step
        current = lifecycle.run_progress(run_id=self.run_id, attempt=self.attempt, fields=fields, metrics=self._pending)
        self._stop = self._stop or not current
        self._pending = []
        self._last_write = self.clock()


class Heartbeat:
    """A daemon thread that stamps `heartbeat_at` every `every_s` seconds while the run is running.

    Its own thread has its own database connection, so a progress write that is slow (or waiting on a lock) in the
    training thread never holds up a beat, and a healthy run is not declared lost.
    """

    def __init__(self, *, run_id: int, attempt: int, every_s: float):
        self.run_id = run_id
        self.attempt = attempt
        self.every_s = every_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-run-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stopped.wait(self.every_s):
                try:
                    lifecycle.run_heartbeat(run_id=self.run_id, attempt=self.attempt)
                except DatabaseError:
                    close_old_connections()  # a locked or dropped connection: try again next beat
        finally:
            connection.close()
