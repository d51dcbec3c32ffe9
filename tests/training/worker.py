"""A real Celery worker process for integration tests, on its own queue and the test's database."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database as a DATABASE_URL the worker's settings can parse."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery -A config worker -P solo` consuming only a queue unique to this test, so stale messages can't leak."""

    def __init__(self, log_dir: Path, *, queue: str | None = None):
        self.queue = queue or f"training-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.name = f"{self.queue}@{socket.gethostname()}"  # the Celery hostname it announces itself under
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        Path(settings.BROKER_DIR / "processed").mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "TRAINING_HEARTBEAT_S": "0.3",
            "TRAINING_QUEUE": self.queue,  # so it announces itself as a training worker
            "TRAINING_PROGRESS_INTERVAL_S": "0.2",
            "PYTHONUNBUFFERED": "1",
        }
        self.starts += 1
        log = (self.log_dir / f"worker-{self.starts}.log").open("w")
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "-c", "1", "-P", "solo"]
        command += ["-n", self.name, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
        # A session of its own, so a kill reaches the worker and nothing else.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no chance to mark the run; only its heartbeat stops."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM: Celery's warm shutdown, which runs the worker_shutdown handlers."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.log_dir.glob("worker-*.log")))

    def route(self, task, monkeypatch) -> None:
        """Send `task` to this worker's queue (the router is cached, so patch the call rather than the routes)."""
        monkeypatch.setattr(task, "apply_async", functools.partial(task.apply_async, queue=self.queue))


@contextlib.contextmanager
def worker_for(task, tmp_path: Path, monkeypatch):
    """A worker process that `task` is sent to, killed at the end."""
    worker = Worker(tmp_path / "worker-logs")
    worker.log_dir.mkdir()
    worker.route(task, monkeypatch)
    worker.start()
    try:
        yield worker
    finally:
        worker.kill()


def wait_for(predicate, *, timeout: float, every: float = 0.1, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message() if callable(message) else message}")
        time.sleep(every)
