"""Running a run in the worker: claiming, cancellation, progress writes, lost workers and resume."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from tests.factories import TrainingRunFactory
from training.models import RunMetric, TrainingRun
from training.reporting import DatabaseReporter
from training.services import RunRejected, launch, lifecycle

Status = TrainingRun.Status


@pytest.fixture
def run(make_snapshot, db):
    snapshot = make_snapshot()
    files = {key: f"{snapshot.path}/{key}.jsonl" for key in ("train", "test", "ties")}
    return TrainingRunFactory(snapshot=snapshot, data_files=files)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_run_is_claimed_once_so_a_second_delivery_does_nothing(run):
    assert lifecycle.run_claim(run_id=run.id) is True
    assert lifecycle.run_claim(run_id=run.id) is False
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.started_at and run.heartbeat_at


def test_a_second_delivery_never_reaches_the_engine(run):
    lifecycle.run_claim(run_id=run.id)
    with mock.patch("training.engine.train_dpo") as train:
        assert lifecycle.run_execute(run_id=run.id) is None
    train.assert_not_called()


def test_an_engine_error_fails_the_run_with_its_message(run):
    with (
        mock.patch("training.engine.EngineConfig"),
        mock.patch("training.engine.train_dpo", side_effect=RuntimeError("CUDA out of memory")),
    ):
        assert lifecycle.run_execute(run_id=run.id) == Status.FAILED
    run.refresh_from_db()
    assert run.status == Status.FAILED and "RuntimeError: CUDA out of memory" in run.error
    assert "failed: RuntimeError" in run.log


def test_cancelling_a_queued_run_cancels_it_before_any_worker_starts(run):
    lifecycle.run_cancel(run_id=run.id)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert lifecycle.run_claim(run_id=run.id) is False


def test_cancelling_a_running_run_asks_the_reporter_to_stop(run):
    lifecycle.run_claim(run_id=run.id)
    reporter = DatabaseReporter(run_id=run.id, interval_s=0.5, clock=FakeClock())
    assert reporter.should_stop() is False
    lifecycle.run_cancel(run_id=run.id)
    reporter.clock.now += 1
    assert reporter.should_stop() is True


def test_cancelling_a_finished_run_is_refused(run):
    TrainingRun.objects.filter(id=run.id).update(status=Status.SUCCEEDED)
    with pytest.raises(RunRejected, match="only queued or running runs can be cancelled"):
        lifecycle.run_cancel(run_id=run.id)


def test_a_cancelled_run_stops_the_real_engine_and_keeps_a_checkpoint(
    make_snapshot, tiny_base_model, lena, data_dir, settings, monkeypatch
):
    """In-process: cancel after the second step; the engine checkpoints and the run ends cancelled."""
    settings.TRAINING_PROGRESS_INTERVAL_S = 0.0
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: None)
    run = launch.run_launch(
        snapshot_id=make_snapshot(train=12, test=2).id,
        base_model_id=tiny_base_model.id,
        preset="quick",
        overrides={"max_steps": 10, "num_samples": 0, "eval_every": None},
        launched_by=lena,
    )
    original_log = DatabaseReporter.log

    def log_then_cancel(self, step, metrics):
        original_log(self, step, metrics)
        if step == 2:
            lifecycle.run_cancel(run_id=self.run_id)

    monkeypatch.setattr(DatabaseReporter, "log", log_then_cancel)
    assert lifecycle.run_execute(run_id=run.id) == Status.CANCELLED
    run.refresh_from_db()
    assert run.step == 2 and run.checkpoint_step == 2 and run.total_steps == 10
    assert "cancelled at step 2" in run.log


def test_the_reporter_throttles_writes_but_always_writes_the_last_step(run):
    clock = FakeClock()
    lifecycle.run_claim(run_id=run.id)
    reporter = DatabaseReporter(run_id=run.id, interval_s=0.5, clock=clock)
    reporter.start(5)
    for step in range(1, 5):
        reporter.log(step, {"loss": 0.69, "pairs_per_s": 4.0, "eta_s": 10.0 - step})
    run.refresh_from_db()
    assert run.step == 0 and RunMetric.objects.count() == 0  # all inside one 0.5 s window
    reporter.log(5, {"loss": 0.5, "eta_s": 0.0, "rewards/margins": float("nan")})
    run.refresh_from_db()
    assert run.step == 5 and run.total_steps == 5 and run.eta_seconds == 0.0 and run.pairs_per_second == 4.0
    assert list(RunMetric.objects.values_list("step", flat=True)) == [1, 2, 3, 4, 5]
    assert RunMetric.objects.get(step=5).metrics["rewards/margins"] is None  # NaN stored as null


def test_the_reporter_writes_again_once_the_interval_has_passed(run):
    clock = FakeClock()
    lifecycle.run_claim(run_id=run.id)
    reporter = DatabaseReporter(run_id=run.id, interval_s=0.5, clock=clock)
    reporter.start(100)
    clock.now += 0.6
    reporter.log(1, {"loss": 0.7})
    clock.now += 0.2
    reporter.log(2, {"loss": 0.7})
    assert RunMetric.objects.count() == 1
    clock.now += 0.4
    reporter.log(3, {"loss": 0.7})
    assert RunMetric.objects.count() == 3


def test_a_resumed_run_forgets_metrics_logged_after_its_checkpoint(run):
    RunMetric.objects.bulk_create([RunMetric(run=run, step=s, metrics={"loss": 1.0}) for s in range(1, 8)])
    lifecycle.run_claim(run_id=run.id)
    reporter = DatabaseReporter(run_id=run.id, interval_s=0.0, clock=FakeClock())
    reporter.start(10)
    reporter.log(5, {"loss": 0.1})
    assert list(RunMetric.objects.values_list("step", flat=True)) == [1, 2, 3, 4, 5]
    assert RunMetric.objects.get(step=5).metrics == {"loss": 0.1}


def test_a_running_run_with_a_stale_heartbeat_is_marked_worker_lost(run, settings):
    settings.TRAINING_STALE_AFTER_S = 60
    lifecycle.run_claim(run_id=run.id)
    TrainingRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(seconds=30))
    assert lifecycle.runs_mark_lost() == 0
    TrainingRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(seconds=90))
    assert lifecycle.runs_mark_lost() == 1
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.error.startswith("worker lost")


def test_a_lost_worker_stops_when_its_run_is_no_longer_running(run):
    lifecycle.run_claim(run_id=run.id)
    reporter = DatabaseReporter(run_id=run.id, interval_s=0.0, clock=FakeClock())
    TrainingRun.objects.filter(id=run.id).update(status=Status.FAILED)
    assert reporter.should_stop() is True


def test_resume_queues_a_failed_run_again_to_continue_from_its_checkpoint(run, monkeypatch):
    sent = []
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: sent.append(kw))
    first_task = run.celery_task_id
    TrainingRun.objects.filter(id=run.id).update(status=Status.FAILED, error="worker lost", cancel_requested=True)
    with mock.patch("django.db.transaction.on_commit", lambda fn, *a, **kw: fn()):
        lifecycle.run_resume(run_id=run.id)
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.resume is True and run.cancel_requested is False
    assert sent == [{"args": (run.id,), "task_id": run.celery_task_id}] and run.celery_task_id != first_task


def test_resume_refuses_a_run_that_is_still_going(run):
    with pytest.raises(RunRejected, match="only failed or cancelled runs can be resumed"):
        lifecycle.run_resume(run_id=run.id)


def test_a_superseded_attempt_stops_and_writes_nothing(run):
    """A worker declared lost but still alive must not write over the resumed attempt."""
    lifecycle.run_claim(run_id=run.id)
    old = DatabaseReporter(run_id=run.id, interval_s=0.0, clock=FakeClock())
    TrainingRun.objects.filter(id=run.id).update(status=Status.FAILED)
    TrainingRun.objects.filter(id=run.id).update(status=Status.QUEUED)
    lifecycle.run_claim(run_id=run.id)  # the resumed attempt
    old.log(7, {"loss": 0.5})
    run.refresh_from_db()
    assert run.attempt == 2 and run.step == 0 and not RunMetric.objects.exists()
    assert old.should_stop() is True


def test_the_sweep_command_marks_lost_runs(run, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.TRAINING_STALE_AFTER_S = 60
    lifecycle.run_claim(run_id=run.id)
    TrainingRun.objects.filter(id=run.id).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    out = StringIO()
    call_command("sweep_lost_runs", stdout=out)
    assert out.getvalue().strip() == "1 run(s) and job(s) marked worker lost"
