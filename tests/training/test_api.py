"""The runs API on values the engine's checks cannot inspect: still a 400 naming the problem, never a 500."""

from __future__ import annotations

import pytest

from training.models import TrainingRun

HUGE = "9" * 400


@pytest.mark.parametrize("override", [f'{{"beta": {HUGE}}}', f'{{"learning_rate": -{HUGE}}}'])
def test_a_setting_too_large_for_a_float_is_a_400(api_for, lena, make_snapshot, tiny_base_model, data_dir, override):
    body = f'{{"snapshot": {make_snapshot().id}, "base_model": {tiny_base_model.id}, "overrides": {override}}}'
    response = api_for(lena).post("/api/v1/runs", data=body, content_type="application/json")
    assert response.status_code == 400 and "config" in response.json()
    assert not TrainingRun.objects.exists()
