"""The sweep runs by itself: real `celery beat` and a real default-queue worker record a silent run as lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TrainingRunFactory
from tests.training.worker import ROOT, database_url, wait_for
from training.models import TrainingRun

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_celery_beat_sweeps_a_run_whose_worker_went_silent(make_snapshot, tmp_path):
    run = TrainingRunFactory(
        snapshot=make_snapshot(), status=TrainingRun.Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    # A private filesystem broker under a temporary data folder: nothing else can take these messages.
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "VERDICT_DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "filesystem://",
        "TRAINING_SWEEP_EVERY_S": "0.5",
        "TRAINING_STALE_AFTER_S": "30",
    }
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    commands = {
        "beat": celery + ["beat", "--schedule", str(tmp_path / "celerybeat-schedule"), "-l", "INFO"],
        "worker": celery
        + ["worker", "-Q", "celery", "-P", "solo", "--without-gossip", "--without-mingle", "-l", "INFO"],
    }
    processes = {
        name: subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=(tmp_path / f"{name}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name, command in commands.items()
    }

    def logs() -> str:
        return "\n".join((tmp_path / f"{name}.log").read_text()[-2000:] for name in commands)

    try:
        wait_for(
            lambda: TrainingRun.objects.get(id=run.id).status == TrainingRun.Status.FAILED, timeout=90, message=logs
        )
    finally:
        for process in processes.values():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert TrainingRun.objects.get(id=run.id).error.startswith("worker lost")
