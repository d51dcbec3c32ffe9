"""Ids and steps in the training pages' query strings: a bad one is a 400 naming it, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.ids import MAX_ID
from tests.factories import TrainingRunFactory
from training.models import RunMetric, TrainingRun

HUGE = "9" * 400  # SQLite raised OverflowError on it: a 500
BAD = [HUGE, str(MAX_ID + 1), "0", "-1", "1e400", "abc", "1,2"]


@pytest.fixture
def run(make_snapshot):
    run = TrainingRunFactory(snapshot=make_snapshot(), status=TrainingRun.Status.SUCCEEDED)
    RunMetric.objects.create(run=run, step=1, metrics={"train/loss": 0.7})
    return run


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("key", ["snapshot", "base_model"])
def test_the_launch_form_names_a_preselected_id_that_cannot_be_one(client_for, lena, make_snapshot, key, value):
    make_snapshot()
    response = client_for(lena).get(reverse("training:run_new"), {key: value})
    assert response.status_code == 400 and f"{key}: " in response.content.decode()
    assert b'name="max_steps"' in response.content  # the form is still there, with nothing preselected


@pytest.mark.parametrize("value", [HUGE, str(MAX_ID + 1), "-1", "1e400", "abc"])
def test_metrics_name_a_step_that_cannot_be_one(client_for, lena, run, value):
    response = client_for(lena).get(reverse("training:run_metrics", args=[run.id]), {"after": value})
    assert response.status_code == 400 and list(response.json()) == ["after"]


def test_metrics_after_nothing_start_from_the_first_step(client_for, lena, run):
    response = client_for(lena).get(reverse("training:run_metrics", args=[run.id]), {"after": ""})
    assert response.status_code == 200 and response.json()["steps"] == [1]


@pytest.mark.parametrize("value", [HUGE, str(MAX_ID + 1), "0", "-1", "1e400", f"1,{HUGE}"])
def test_compare_names_a_run_id_that_cannot_be_one(client_for, lena, run, value):
    response = client_for(lena).get(reverse("training:run_compare"), {"runs": value})
    assert response.status_code == 400 and "is not a run id" in response.content.decode()
