"""The one writer of a run's state: every transition from every state, allowed or refused; heartbeats not starved."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import TrainingRunFactory
from tests.training.worker import wait_for
from training.models import RunMetric, TrainingRun
from training.reporting import DatabaseReporter, Heartbeat
from training.services import RunRejected, lifecycle

Status = TrainingRun.Status
ALL = tuple(Status)


@pytest.fixture
def make_run(make_snapshot, monkeypatch):
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: None)
    snapshot = make_snapshot()

    def make(status: str, **fields) -> TrainingRun:
        fields = {"attempt": 1, "heartbeat_at": timezone.now(), **fields}
        return TrainingRunFactory(snapshot=snapshot, status=status, **fields)

    return make


def _act(action: str, run: TrainingRun) -> None:
    """Ask for `action` through the function that owns it (user actions raise RunRejected when refused)."""
    if action == "claim":
        lifecycle.run_claim(run_id=run.id, worker="training@box")
    elif action == "progress":
        lifecycle.run_progress(run_id=run.id, attempt=1, fields={"step": 7}, metrics=[])
    elif action == "heartbeat":
        lifecycle.run_heartbeat(run_id=run.id, attempt=1)
    elif action == "request_stop":
        lifecycle.run_cancel(run_id=run.id)
    elif action in ("finish", "fail", "stop"):
        ending = {value: key for key, value in lifecycle.ENDING.items()}[action]
        lifecycle._finish(run.id, 1, ending)
    elif action == "cancel":
        lifecycle.run_cancel(run_id=run.id)
    elif action == "resume":
        lifecycle.run_resume(run_id=run.id)
    elif action == "mark_lost":
        TrainingRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        lifecycle.runs_mark_lost()


CASES = [(action, status) for action in lifecycle.TRANSITIONS for status in ALL]


@pytest.mark.parametrize(("action", "status"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_each_transition_moves_only_from_its_declared_states(make_run, action, status):
    move = lifecycle.TRANSITIONS[action]
    run = make_run(status)
    try:
        _act(action, run)
    except RunRejected:
        assert status not in move.sources or action in ("cancel", "request_stop")
    run.refresh_from_db()
    if action in ("cancel", "request_stop") and status in (Status.QUEUED, Status.RUNNING):
        # One user action: a queued run is cancelled outright, a running one asked to stop.
        expected = Status.CANCELLED if status == Status.QUEUED else Status.RUNNING
        assert run.status == expected and run.cancel_requested == (status == Status.RUNNING)
    elif status in move.sources:
        assert run.status == move.target
    else:
        assert run.status == status  # refused: nothing changed


def test_claiming_counts_an_attempt_and_records_the_worker(make_run):
    run = make_run(Status.QUEUED, error="old error")
    assert lifecycle.run_claim(run_id=run.id, worker="training@gpu-1") is True
    run.refresh_from_db()
    assert (run.status, run.attempt, run.worker, run.error) == (Status.RUNNING, 2, "training@gpu-1", "")


def test_a_worker_cannot_finish_an_attempt_that_is_no_longer_current(make_run):
    run = make_run(Status.RUNNING)
    TrainingRun.objects.filter(id=run.id).update(attempt=2)  # declared lost and resumed elsewhere
    assert lifecycle._finish(run.id, 1, Status.SUCCEEDED, eval_report={"preference_accuracy": 1.0}) is False
    assert lifecycle.run_progress(run_id=run.id, attempt=1, fields={"step": 9}, metrics=[]) is False
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.eval_report is None and run.step == 0


def test_progress_for_a_stale_attempt_writes_no_metric_rows(make_run):
    run = make_run(Status.RUNNING)
    TrainingRun.objects.filter(id=run.id).update(attempt=2)
    rows = [RunMetric(run_id=run.id, step=1, metrics={"loss": 0.5})]
    assert lifecycle.run_progress(run_id=run.id, attempt=1, fields={"step": 1}, metrics=rows) is False
    assert not RunMetric.objects.exists()


def test_the_sweep_spares_a_run_whose_heartbeat_landed_after_it_looked(make_run, settings):
    settings.TRAINING_STALE_AFTER_S = 30
    run = make_run(Status.RUNNING)
    stale = timezone.now() - timedelta(minutes=5)
    TrainingRun.objects.filter(id=run.id).update(heartbeat_at=stale)
    real_apply = lifecycle._apply

    def beat_first(action, **kwargs):
        # The worker's beat lands between the sweep's read and its write.
        real_apply("heartbeat", run_id=run.id, heartbeat_at=timezone.now())
        return real_apply(action, **kwargs)

    with mock.patch.object(lifecycle, "_apply", side_effect=beat_first):
        assert lifecycle.runs_mark_lost() == 0
    run.refresh_from_db()
    assert run.status == Status.RUNNING


def test_resume_records_a_silent_running_run_as_lost_and_queues_it(make_run, settings):
    settings.TRAINING_STALE_AFTER_S = 30
    run = make_run(Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5))
    lifecycle.run_resume(run_id=run.id)
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.resume is True and run.error.startswith("worker lost")


def test_resume_refuses_a_running_run_whose_worker_is_beating(make_run):
    run = make_run(Status.RUNNING)
    with pytest.raises(RunRejected, match="only failed or cancelled runs can be resumed"):
        lifecycle.run_resume(run_id=run.id)


def test_the_reporter_never_changes_a_runs_status(make_run):
    run = make_run(Status.RUNNING)
    reporter = DatabaseReporter(run_id=run.id, attempt=1, interval_s=0.0)
    reporter.start(10)
    reporter.log(10, {"loss": 0.1})
    reporter.checkpoint(10, "/tmp/x")
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.step == 10 and run.checkpoint_step == 10


@pytest.mark.django_db(transaction=True)
def test_a_blocked_progress_write_does_not_stop_the_heartbeat(make_run):
    """The heartbeat has its own thread and connection: a progress write stuck in the database doesn't starve it."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time: an open write transaction holds every other writer back")
    run = make_run(Status.RUNNING)
    TrainingRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    reporter = DatabaseReporter(run_id=run.id, attempt=1, interval_s=0.0)
    entered, release = threading.Event(), threading.Event()
    real_bulk_create = RunMetric.objects.bulk_create

    def slow_insert(*args, **kwargs):
        entered.set()
        assert release.wait(timeout=30)
        return real_bulk_create(*args, **kwargs)

    beats = [TrainingRun.objects.values_list("heartbeat_at", flat=True).get(id=run.id)]

    def a_newer_beat() -> bool:
        beat = TrainingRun.objects.values_list("heartbeat_at", flat=True).get(id=run.id)
        if beat > beats[-1]:
            beats.append(beat)
            return True
        return False

    def write_progress() -> None:
        try:
            reporter.log(1, {"loss": 0.6})
        finally:
            connection.close()

    with mock.patch.object(RunMetric.objects, "bulk_create", side_effect=slow_insert):
        writer = threading.Thread(target=write_progress)
        with Heartbeat(run_id=run.id, attempt=1, every_s=0.02):
            writer.start()
            assert entered.wait(timeout=10)
            for _ in range(3):  # three fresh beats land while the progress write is still stuck
                wait_for(a_newer_beat, timeout=10, message="no heartbeat while the progress write was blocked")
            assert writer.is_alive()
            release.set()
            writer.join(timeout=10)
    run.refresh_from_db()
    assert run.step == 1 and RunMetric.objects.filter(run=run).count() == 1
