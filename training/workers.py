"""The training worker process: it announces its device once Celery is ready, beats while alive, retires on exit.

Connected in TrainingConfig.ready(); the handlers act only in a worker consuming settings.TRAINING_QUEUE. All the
database work happens in the beat's own thread (and connection), never in the worker's main thread, so nothing is
opened before a prefork worker forks its children.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading

from celery import signals
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from training.services import workers

logger = logging.getLogger(__name__)


def probe_device() -> dict[str, object]:
    """This machine's device, asked in a child process (see training.device_probe); CPU when the probe fails."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "training.device_probe"], capture_output=True, text=True, timeout=120, check=True
        )
        return json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        logger.warning("device probe failed (%s); announcing a CPU worker", exc)
        return {"device": "cpu", "device_name": "CPU (probe failed)", "memory_bytes": None}


class WorkerBeat:
    """A daemon thread: announce the worker, then mark it seen every `every_s` seconds until stopped."""

    def __init__(self, *, name: str, every_s: float):
        self.name = name
        self.every_s = every_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"worker-beat-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        device = probe_device()
        announced = False
        try:
            while not self._stopped.is_set():
                try:
                    if not announced or not workers.worker_seen(name=self.name):
                        workers.worker_announce(name=self.name, **device)
                        announced = True
                except DatabaseError:
                    close_old_connections()  # a locked or dropped connection: try again next beat
                self._stopped.wait(self.every_s)
            workers.worker_retire(name=self.name)
        except DatabaseError:
            logger.warning("could not retire training worker %s", self.name)
        finally:
            connection.close()


_beat: WorkerBeat | None = None


def on_worker_ready(sender, **kwargs) -> None:
    global _beat
    if settings.TRAINING_QUEUE not in sender.app.amqp.queues.consume_from:
        return
    _beat = WorkerBeat(name=sender.hostname, every_s=settings.TRAINING_HEARTBEAT_S)
    _beat.start()


def on_worker_shutdown(sender, **kwargs) -> None:
    if _beat is not None:
        _beat.stop()


def connect_signals() -> None:
    signals.worker_ready.connect(on_worker_ready, weak=False, dispatch_uid="training-worker-ready")
    signals.worker_shutdown.connect(on_worker_shutdown, weak=False, dispatch_uid="training-worker-shutdown")
