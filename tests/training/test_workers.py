"""Training workers: presence (announce, beat, retire), the panel, and launch refusing CUDA without a live GPU."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import TrainingRunFactory, TrainingWorkerFactory
from training import selectors
from training.models import TrainingRun, TrainingWorker
from training.services import RunRejected, launch, workers


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: calls.append(kw))
    return calls


def launch_on(device: str, snapshot, base_model, lena) -> TrainingRun:
    return launch.run_launch(
        snapshot_id=snapshot.id,
        base_model_id=base_model.id,
        preset="quick",
        overrides={"device": device},
        launched_by=lena,
    )


def test_a_worker_is_live_while_it_beats_and_not_once_retired_or_silent(db, settings):
    settings.TRAINING_STALE_AFTER_S = 30
    workers.worker_announce(name="training@a", device="cuda", device_name="NVIDIA H200", memory_bytes=141 * 2**30)
    assert list(selectors.live_workers_with_gpu().values_list("name", flat=True)) == ["training@a"]
    TrainingWorker.objects.update(last_seen_at=timezone.now() - timedelta(minutes=1))
    assert not selectors.live_workers().exists()
    assert workers.worker_seen(name="training@a") is True and selectors.live_workers().exists()
    workers.worker_retire(name="training@a")
    assert not selectors.live_workers().exists()
    assert workers.worker_seen(name="training@a") is False  # a retired worker announces itself again


def test_cuda_is_refused_at_launch_when_no_live_worker_has_a_gpu(make_snapshot, tiny_base_model, lena, data_dir, sent):
    TrainingWorkerFactory()  # a live CPU worker
    TrainingWorkerFactory(device="cuda", last_seen_at=timezone.now() - timedelta(hours=1))  # a dead GPU worker
    with pytest.raises(RunRejected) as refused:
        launch_on("cuda", make_snapshot(), tiny_base_model, lena)
    assert refused.value.errors == [
        "device: cuda needs a GPU, and no live training worker has one; "
        "choose auto or cpu, or start a training worker on a GPU machine"
    ]
    assert not TrainingRun.objects.exists() and sent == []


def test_cuda_is_accepted_when_a_live_worker_has_a_gpu(make_snapshot, tiny_base_model, lena, data_dir, sent):
    TrainingWorkerFactory(device="cuda", device_name="NVIDIA H200")
    assert launch_on("cuda", make_snapshot(), tiny_base_model, lena).config["device"] == "cuda"


def test_a_run_any_worker_can_take_queues_while_none_is_alive(make_snapshot, tiny_base_model, lena, data_dir, sent):
    assert launch_on("auto", make_snapshot(), tiny_base_model, lena).status == TrainingRun.Status.QUEUED


def test_the_device_refusal_is_shown_beside_the_device_field(
    client_for, lena, make_snapshot, tiny_base_model, data_dir, sent
):
    from tests.training.test_launch_form import _form_data

    data = _form_data(make_snapshot(), tiny_base_model, device="cuda")
    response = client_for(lena).post(reverse("training:run_new"), data)
    assert response.status_code == 400 and "device: cuda needs a GPU" in response.content.decode()
    assert response.context["form"].errors["device"]


def test_the_panel_shows_each_workers_device_state_and_run(client_for, lena, make_snapshot, settings):
    settings.TRAINING_STALE_AFTER_S = 30
    gpu = TrainingWorkerFactory(name="training@gpu", device="cuda", device_name="NVIDIA H200", memory_bytes=150 * 10**9)
    TrainingWorkerFactory(name="training@cpu")
    TrainingWorkerFactory(name="training@gone", last_seen_at=timezone.now() - timedelta(minutes=5))
    run = TrainingRunFactory(
        snapshot=make_snapshot(), status=TrainingRun.Status.RUNNING, worker=gpu.name, heartbeat_at=timezone.now()
    )
    page = client_for(lena).get(reverse("training:run_list"))
    html = page.content.decode()
    assert [(w.name, w.live, w.busy_run) for w in page.context["workers"]] == [
        ("training@cpu", True, None),
        ("training@gpu", True, run.id),
        ("training@gone", False, None),
    ]
    assert "GPU · NVIDIA H200" in html and "139.7\xa0GB" in html
    assert f"run #{run.id}</a>" in html and 'status-idle">idle' in html and 'status-offline">offline' in html


def test_the_api_lists_training_workers(api_for, lena):
    TrainingWorkerFactory(name="training@gpu", device="cuda", device_name="NVIDIA H200")
    listed = api_for(lena).get("/api/v1/training-workers").json()
    assert [(w["name"], w["device"], w["live"], w["busy_run"]) for w in listed] == [
        ("training@gpu", "cuda", True, None)
    ]
