"""The Generate page in a browser: pick models and prompts, queue a job, watch its card until the campaign fills."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import CampaignFactory, LocaleFactory, PromptFactory
from training.models import GenerationJob
from training.services import generation
from training.services.base_models import base_model_register


@pytest.fixture
def setup(settings, tmp_path, tiny_model_dir, monkeypatch):
    """A campaign of prompts, the tiny model registered, DATA_DIR in a temporary folder; no broker (the test runs
    the job itself, so the card's states can be seen one by one)."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.VERDICT_MODEL_DIRS = [Path(tiny_model_dir).resolve()]
    monkeypatch.setattr("training.tasks.generate_candidates.apply_async", lambda *a, **kw: None)
    campaign = CampaignFactory(slug="faq", name="FAQ", locales=[LocaleFactory(code="en-US")])
    for i in range(3):
        PromptFactory(campaign=campaign, external_id=f"q{i}", text=f"the cat and the dog {i}")
    return base_model_register(name="tiny", path=tiny_model_dir)


def test_a_lead_generates_candidates_and_watches_the_progress_card(page, live_server, sign_in, screenshot, lena, setup):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/training/")
    page.click("text=Generate candidates")
    page.check(f"input[name=models][value='base:{setup.id}']")
    page.select_option("#id_source_campaign", "faq")
    page.fill("#id_samples", "2")
    page.fill("#id_temperature", "1")
    page.fill("#id_max_new_tokens", "5")
    page.select_option("#id_pairs", "all")  # one model: its own samples make the pairs
    page.fill("#id_target_campaign", "faq-generated")
    screenshot(page, "generation-form")
    page.click("button:has-text('Generate')")

    page.wait_for_selector("#generation-progress[data-status='queued']")
    job = GenerationJob.objects.get()
    assert page.url.endswith(f"/training/generation/{job.id}/")
    assert "Waiting for a training worker" in page.inner_text("#generation-progress")

    # A worker reports progress: the card polls itself and shows it.
    GenerationJob.objects.filter(id=job.id).update(status="running", sequences_done=2, current_model="tiny")
    page.wait_for_selector("#generation-progress[data-status='running']")
    assert "2 / 6 answers" in page.inner_text("#generation-progress")
    assert "sampling from tiny" in page.inner_text("#generation-progress")
    screenshot(page, "generation-progress")

    GenerationJob.objects.filter(id=job.id).update(status="queued", sequences_done=0)
    assert generation.generation_job_execute(job_id=job.id) == "succeeded"
    page.wait_for_selector("#generation-progress[data-status='succeeded']")  # 286 stops polling; the page reloads
    card = page.inner_text("#generation-progress")
    assert "6 / 6 answers" in card and "new pairs in faq-generated" in card
    assert GenerationJob.objects.get().result["comparisons_created"] > 0
    screenshot(page, "generation-done")
