"""A run that diverges is recorded as failed with the engine's reason, and never reported as a success."""

from __future__ import annotations

import pytest

from training import selectors
from training.models import TrainingRun
from training.report import report_context
from training.services import launch, lifecycle


@pytest.mark.django_db
def test_a_diverging_run_fails_with_the_reason_and_has_no_report(
    make_snapshot, tiny_base_model, lena, data_dir, settings, monkeypatch
):
    settings.TRAINING_PROGRESS_INTERVAL_S = 0.0
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: None)
    run = launch.run_launch(
        snapshot_id=make_snapshot(train=24, test=4).id,
        base_model_id=tiny_base_model.id,
        preset="quick",
        # The largest β the schema allows and a steep learning rate: margins pass the (lowered) limit in a few steps.
        overrides={"beta": 10.0, "learning_rate": 1e-2, "divergence_margin": 5.0, "warmup_ratio": 0.0},
        launched_by=lena,
    )
    assert lifecycle.run_execute(run_id=run.id) == TrainingRun.Status.FAILED
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert run.error.startswith("TrainingDiverged: step ") and "beyond divergence_margin=5" in run.error
    assert run.eval_report is None and report_context(run=run) is None
    assert run not in selectors.run_list().filter(status=TrainingRun.Status.SUCCEEDED)
