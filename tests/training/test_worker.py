"""End to end on a real Celery worker process: train, report, download; kill mid-run, detect, resume."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from tests.training.worker import Worker, wait_for
from training import selectors
from training.models import RunMetric, TrainingRun, TrainingWorker
from training.services import RunRejected, launch
from training.tasks import train_run

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ENDED = (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED)


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """One worker for the module (its start-up is most of a test's time); the kill test starts it again."""
    worker = Worker(tmp_path_factory.mktemp("worker"))
    with pytest.MonkeyPatch.context() as patch:
        worker.route(train_run, patch)
        worker.start()
        yield worker
        worker.kill()


def live_names() -> set[str]:
    return set(selectors.live_workers().values_list("name", flat=True))


def status_of(run: TrainingRun) -> str:
    run.refresh_from_db()
    return run.status


def test_a_quick_run_trains_on_a_worker_and_its_report_and_adapter_are_served(
    worker, make_snapshot, tiny_base_model, tiny_model_dir, lena, data_dir, client_for, api_for
):
    snapshot = make_snapshot(train=16, test=6)
    overrides = {
        "max_steps": 4,
        "eval_every": None,
        "checkpoint_every": None,
        "num_samples": 1,
        "sample_max_new_tokens": 8,
    }
    response = api_for(lena).post(
        "/api/v1/runs",
        {"snapshot": snapshot.id, "base_model": tiny_base_model.id, "preset": "quick", "overrides": overrides},
        format="json",
    )
    assert response.status_code == 201, response.json()
    run = TrainingRun.objects.get(id=response.json()["id"])

    wait_for(lambda: status_of(run) in ENDED, timeout=90, message=worker.logs)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + worker.logs()
    assert (run.step, run.total_steps) == (4, 4)
    assert list(RunMetric.objects.filter(run=run).values_list("step", flat=True)) == [1, 2, 3, 4]
    assert run.eval_report["num_pairs"] == 6 and 0.0 <= run.eval_report["preference_accuracy"] <= 1.0
    assert set(run.eval_report["slices"]["locale"]) == {"en-US", "ja-JP"}
    assert set(run.eval_report["slices"]["tag"]) == {"scenario=factual", "scenario=creative"}

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), run.output_dir)
    assert adapted.peft_config["default"].r == 8

    page = client_for(lena).get(reverse("training:run_detail", args=[run.id]))
    assert b"Evaluation report" in page.content and b"Download adapter" in page.content
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(api_for(lena).get(f"/api/v1/runs/{run.id}/adapter").streaming_content))
    )
    assert {"adapter_model.safetensors", "adapter_config.json"} <= set(archive.namelist())


def test_a_killed_worker_leaves_a_failed_run_that_resumes_to_the_same_final_step(
    worker, make_snapshot, tiny_base_model, lena, data_dir, client_for, settings
):
    settings.TRAINING_STALE_AFTER_S = 2.0
    overrides = {"max_steps": 12, "checkpoint_every": 3, "eval_every": None, "num_samples": 0}
    run = launch.run_launch(
        snapshot_id=make_snapshot(train=24, test=4).id,
        base_model_id=tiny_base_model.id,
        preset="quick",
        overrides=overrides,
        launched_by=lena,
    )
    wait_for(lambda: (run.refresh_from_db() or run.checkpoint_step or 0) >= 3, timeout=90, message=worker.logs)
    worker.kill()
    worker.start()  # a fresh worker boots while the old one's heartbeat goes stale
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.RUNNING and run.step < 12
    killed_at = run.checkpoint_step

    lena_client = client_for(lena)
    wait_for(
        lambda: b"worker lost" in lena_client.get(reverse("training:run_detail", args=[run.id])).content,
        timeout=15,
        every=0.5,
    )
    assert status_of(run) == TrainingRun.Status.RUNNING  # shown lost; only the sweep or a resume records it

    lena_client.post(reverse("training:run_resume", args=[run.id]))
    assert "worker lost" in TrainingRun.objects.get(id=run.id).error
    wait_for(lambda: status_of(run) in ENDED, timeout=90, message=worker.logs)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + worker.logs()
    assert (run.step, run.total_steps) == (12, 12)
    assert "resuming from the last checkpoint" in run.log and killed_at >= 3
    assert list(RunMetric.objects.filter(run=run).values_list("step", flat=True)) == list(range(1, 13))


def test_a_real_worker_appears_in_the_panel_with_its_device_and_cuda_is_refused_without_a_gpu(
    worker, make_snapshot, tiny_base_model, lena, data_dir, client_for
):
    wait_for(lambda: worker.name in live_names(), timeout=60, message=worker.logs)
    announced = TrainingWorker.objects.get(name=worker.name)
    assert announced.device == "cpu" and announced.device_name.startswith("CPU") and announced.memory_bytes > 0

    html = client_for(lena).get(reverse("training:run_list")).content.decode()
    assert f"<code>{worker.name}</code>" in html and 'status-idle">idle' in html

    with pytest.raises(RunRejected, match="device: cuda needs a GPU, and no live training worker has one"):
        launch.run_launch(
            snapshot_id=make_snapshot().id,
            base_model_id=tiny_base_model.id,
            preset="quick",
            overrides={"device": "cuda"},
            launched_by=lena,
        )


def test_a_worker_that_shuts_down_cleanly_is_offline_at_once(worker):
    wait_for(lambda: worker.name in live_names(), timeout=60, message=worker.logs)
    worker.stop()
    assert worker.name not in live_names()
    assert TrainingWorker.objects.get(name=worker.name).stopped_at is not None
    worker.start()  # the next test (or the fixture's teardown) finds it running again
    wait_for(lambda: worker.name in live_names(), timeout=60, message=worker.logs)
