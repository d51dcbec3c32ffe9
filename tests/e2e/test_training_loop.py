"""The whole loop in a browser on demo data: judge, export, train on a real Celery worker, read the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from annotate.models import DatasetSnapshot, Judgment
from annotate.services.demo import DEMO_CAMPAIGN, DEMO_PASSWORD
from tests.training.worker import Worker
from training.models import TrainingRun
from training.services.base_models import base_model_register
from training.tasks import train_run

JUDGED = 12


@pytest.fixture
def demo(settings, tmp_path, tiny_model_dir):
    """Demo campaign and people, DATA_DIR in a temporary folder, the tiny model registered as the base model."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.VERDICT_MODEL_DIRS = [Path(tiny_model_dir).resolve()]
    call_command("seed_demo")
    base_model_register(name="tiny-demo", path=tiny_model_dir)


@pytest.fixture
def worker(tmp_path, monkeypatch):
    worker = Worker(tmp_path)
    worker.route(train_run, monkeypatch)
    worker.start()
    yield worker
    worker.kill()


def judge_pairs(page, count: int) -> None:
    for _ in range(count):
        before = page.get_attribute("#compare", "data-assignment")
        page.keyboard.press("1")
        page.keyboard.press("c")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "(before) => document.querySelector('#compare')?.dataset.assignment !== before", arg=before
        )


def test_a_lead_trains_on_freshly_judged_pairs_and_reads_the_report(
    page, live_server, sign_in, screenshot, demo, worker
):
    sign_in(page, "alice", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/review/{DEMO_CAMPAIGN}/")
    page.wait_for_selector("#judge-form")
    judge_pairs(page, JUDGED)
    assert Judgment.objects.filter(reviewer__username="alice").count() == JUDGED
    screenshot(page, "training-loop-1-review")

    page.context.clear_cookies()
    sign_in(page, "lena", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/exports/new/")
    page.check("input[name=campaigns]")
    page.fill("input[name=min_judgments]", "1")
    page.fill("input[name=test_share]", "0.3")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/exports/*/")
    snapshot = DatasetSnapshot.objects.get()
    screenshot(page, "training-loop-2-snapshot")

    page.click("text=Train on this snapshot")
    page.wait_for_selector("#settings-fields")
    assert page.input_value("select[name=snapshot]") == str(snapshot.id)
    page.click("#group-evaluation > summary")  # settings past the essentials are folded
    for name, value in {"max_steps": "8", "eval_every": "4", "checkpoint_every": "4", "num_samples": "2"}.items():
        page.fill(f"input[name={name}]", value)
    # A full-page screenshot while a number box has focus makes Chromium drop the next click.
    page.locator("input[name=num_samples]").blur()
    screenshot(page, "training-loop-3-launch")
    page.click("form.run-form button[type=submit]")

    page.wait_for_selector("#run-progress")
    run = TrainingRun.objects.get()
    assert run.snapshot_id == snapshot.id and run.config["max_steps"] == 8
    page.wait_for_function("Number(document.querySelector('#run-progress')?.dataset.step) >= 2", timeout=90_000)
    screenshot(page, "training-loop-4-running")

    # The card polls itself; when the run ends it answers 286 and the page reloads with the report.
    page.wait_for_selector("#report", timeout=120_000)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error + worker.logs()
    assert page.get_attribute(".progress.big", "aria-valuenow") == "100"
    assert page.is_visible("text=Preference accuracy") and page.is_visible("text=Sampled generations")
    assert page.locator("#chart-loss").is_visible()
    screenshot(page, "training-loop-5-report")

    page.click("text=All runs")
    page.wait_for_selector("table.runs")
    assert page.is_visible("table.runs .badge.status-succeeded")
    screenshot(page, "training-loop-6-runs")
