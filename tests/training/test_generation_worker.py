"""End to end on a real Celery worker process: a generation job fills a campaign, then a reviewer judges it."""

from __future__ import annotations

import pytest

from annotate.models import Comparison, Judgment
from tests.factories import CampaignFactory, LocaleFactory, PromptFactory
from tests.training.worker import wait_for, worker_for
from training.models import GenerationJob
from training.tasks import generate_candidates

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path, monkeypatch):
    with worker_for(generate_candidates, tmp_path, monkeypatch) as worker:
        yield worker


def ratings_for(rubric: dict) -> dict:
    scores = {c["key"]: 3 for c in rubric["criteria"] if c.get("required")}
    return {"left": scores, "right": dict(scores)}


def test_a_job_on_a_worker_fills_a_campaign_that_a_reviewer_then_judges(
    worker, tiny_base_model, adapter_run, lena, alice, api_for, data_dir
):
    source = CampaignFactory(slug="source", locales=[LocaleFactory(code="en-US")])
    for i in range(3):
        PromptFactory(campaign=source, external_id=f"p{i}", text=f"the bird {i}")
    body = {
        "models": [f"base:{tiny_base_model.id}", f"run:{adapter_run.id}"],
        "source_campaign": "source",
        "target_campaign": "generated",
        "samples": 2,
        "temperature": 1.0,
        "max_new_tokens": 6,
        "seed": 3,
    }
    response = api_for(lena).post("/api/v1/generation-jobs", body, format="json")
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]

    def state() -> dict:
        return api_for(lena).get(f"/api/v1/generation-jobs/{job_id}").json()

    wait_for(lambda: state()["status"] not in ("queued", "running"), timeout=120, message=worker.logs)
    done = state()
    assert done["status"] == "succeeded", done["error"] + worker.logs()
    assert done["worker"] == worker.name and done["progress"]["percent"] == 100
    pairs = Comparison.objects.filter(campaign__slug="generated")
    assert pairs.count() == done["result"]["comparisons_created"] > 0

    # The worker's beat writes would contend with the reviewer's on SQLite (a deferred transaction cannot upgrade to
    # a write lock there): it has done its part, so it stops cleanly first.
    worker.stop()
    reviewer = api_for(alice)
    judged = 0
    while (next_pair := reviewer.post("/api/v1/campaigns/generated/next")).status_code == 200:
        pair = next_pair.json()
        assert "model" not in str(pair).lower()  # reviewers see texts only
        payload = {"choice": "left", "strength": "clear", "ratings": ratings_for(pair["rubric"])}
        stored = reviewer.post(f"/api/v1/assignments/{pair['assignment']}/judgment", payload, format="json")
        assert stored.status_code == 201, stored.json()
        judged += 1
    assert (
        judged == pairs.count() == Judgment.objects.filter(assignment__comparison__campaign__slug="generated").count()
    )
    assert GenerationJob.objects.get(id=job_id).target_campaign.slug == "generated"
