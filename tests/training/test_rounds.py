"""On-policy rounds: a run continues an earlier run's adapter."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from tests.factories import BaseModelFactory, TrainingRunFactory
from training.models import TrainingRun
from training.services import RunRejected, launch, lifecycle


@pytest.fixture(autouse=True)
def no_broker(monkeypatch, data_dir):
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: None)


def launch_from(parent_id, snapshot, base_model, lena, **overrides):
    return launch.run_launch(
        snapshot_id=snapshot.id,
        base_model_id=base_model.id,
        preset="quick",
        overrides={"max_steps": 2, "num_samples": 0, "eval_every": None, **overrides},
        launched_by=lena,
        parent_run_id=parent_id,
    )


def test_a_run_continues_its_parents_adapter(adapter_run, make_snapshot, tiny_base_model, lena):
    run = launch_from(adapter_run.id, make_snapshot(train=8, test=2), tiny_base_model, lena, learning_rate=1e-9)
    assert run.parent_run == adapter_run and run.lineage["parent_run_id"] == adapter_run.id
    assert run.config["init_adapter_dir"] == adapter_run.output_dir
    assert lifecycle.run_execute(run_id=run.id) == TrainingRun.Status.SUCCEEDED
    # Two steps at a negligible learning rate: the new adapter is the parent's, not a fresh (zero-B) one.
    parent = load_file(f"{adapter_run.output_dir}/adapter_model.safetensors")
    child = load_file(f"{run.output_dir}/adapter_model.safetensors")
    assert parent.keys() == child.keys()
    b_weights = [key for key in child if "lora_B" in key]
    assert b_weights and all(child[key].abs().sum() > 0 for key in b_weights)
    assert all(torch.allclose(parent[key], child[key], atol=1e-5) for key in child)


def test_the_parent_must_have_succeeded_on_the_same_base_model(make_snapshot, tiny_base_model, lena, adapter_run):
    unfinished = TrainingRunFactory(snapshot=make_snapshot(), base_model=tiny_base_model, status="failed")
    with pytest.raises(RunRejected) as refused:
        launch_from(unfinished.id, make_snapshot(), tiny_base_model, lena)
    assert refused.value.errors == [
        f"parent_run: no succeeded run with id {unfinished.id} (only a finished run has an adapter)"
    ]
    other = BaseModelFactory(name="other", path=tiny_base_model.path + "-other")
    with pytest.raises(RunRejected) as refused:
        launch_from(adapter_run.id, make_snapshot(), other, lena)
    assert any(e.startswith(f"parent_run: run #{adapter_run.id} trained tiny, not other") for e in refused.value.errors)


def test_the_api_takes_a_parent_run(api_for, lena, adapter_run, make_snapshot, tiny_base_model):
    data = {"snapshot": make_snapshot().id, "base_model": tiny_base_model.id, "parent_run": adapter_run.id}
    response = api_for(lena).post("/api/v1/runs", data, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["parent_run"] == adapter_run.id
    bad = api_for(lena).post("/api/v1/runs", {**data, "parent_run": "x"}, format="json")
    assert bad.status_code == 400 and "parent_run" in bad.json()


def test_the_round_number_counts_parent_links(adapter_run, make_snapshot, tiny_base_model):
    from training.services.generation import round_number

    child = TrainingRunFactory(snapshot=make_snapshot(), base_model=tiny_base_model, parent_run=adapter_run)
    assert (round_number(adapter_run), round_number(child)) == (1, 2)
