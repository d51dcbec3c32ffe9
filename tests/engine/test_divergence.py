"""A run whose loss or margins go non-finite or explode stops as failed instead of finishing with a report."""

from __future__ import annotations

import math

import pytest

from tests.engine.conftest import rule_pairs
from tests.engine.test_training import Recorder
from training.engine import TrainingDiverged, train_dpo
from training.engine.loop import divergence
from training.engine.objective import Objective


def test_a_nan_loss_stops_the_run_at_that_step_without_a_report(make_config, tmp_path, monkeypatch):
    original = Objective.per_pair
    monkeypatch.setattr(Objective, "per_pair", lambda self, *a, **kw: original(self, *a, **kw) * math.nan)
    recorder = Recorder()
    with pytest.raises(TrainingDiverged, match=r"step 1: loss is nan; lower the learning rate or β"):
        train_dpo(make_config(max_steps=5, num_samples=0), rule_pairs(16, seed=0), rule_pairs(4, seed=1), recorder)
    assert sorted(recorder.logged) == [1]  # the bad step is still reported, so its curve shows why
    assert not (tmp_path / "out" / "eval_report.json").exists()


def test_margins_past_the_divergence_limit_stop_the_run(make_config, tmp_path):
    # β = 10 is the largest the schema allows; with lr 1e-2 the tiny model's margins pass 5 within a few steps.
    config = make_config(
        beta=10.0, learning_rate=1e-2, divergence_margin=5.0, max_steps=12, batch_size=4, num_samples=0
    )
    recorder = Recorder()
    with pytest.raises(TrainingDiverged, match=r"rewards/margins is .*beyond divergence_margin=5"):
        train_dpo(config, rule_pairs(32, seed=0), [], recorder)
    last = max(recorder.logged)
    assert last < 12 and abs(recorder.logged[last]["rewards/margins"]) > 5
    assert not (tmp_path / "out" / "eval_report.json").exists()


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        ({"loss": 0.5, "rewards/margins": 2.0}, None),
        ({"loss": math.inf}, "loss is inf"),
        ({"loss": 0.1, "rewards/margins": -8e8}, "rewards/margins is -8e+08, beyond divergence_margin=10000"),
        ({"loss": 0.1, "eval/rewards/margins": math.nan}, "eval/rewards/margins is nan"),
        ({"loss": 0.1, "eval/loss": 5e7}, None),  # a large loss alone is not divergence: sppo's starts large
    ],
)
def test_divergence_names_the_metric_that_went_wrong(metrics, reason):
    assert divergence(metrics, 1e4) == reason
