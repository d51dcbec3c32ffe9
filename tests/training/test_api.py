"""The runs API on values the engine's checks cannot inspect: still a 400 naming the problem, never a 500."""

from __future__ import annotations

import pytest

from training.models import TrainingRun

HUGE = "9" * 400


@pytest.mark.parametrize(("setting", "value"), [("beta", HUGE), ("learning_rate", f"-{HUGE}")])
def test_a_setting_too_large_for_a_float_is_a_400_naming_it(
    api_for, lena, make_snapshot, tiny_base_model, data_dir, setting, value
):
    overrides = f'{{"{setting}": {value}}}'
    body = f'{{"snapshot": {make_snapshot().id}, "base_model": {tiny_base_model.id}, "overrides": {overrides}}}'
    response = api_for(lena).post("/api/v1/runs", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json()[setting][0].startswith("must be in")
    assert not TrainingRun.objects.exists()
