"""End to end on a real Celery worker process: a judge job on the tiny model judges a campaign's pairs."""

from __future__ import annotations

import pytest

from annotate.models import Judgment
from tests.factories import CampaignFactory, CandidateFactory, ComparisonFactory, LocaleFactory, PromptFactory
from tests.training.worker import wait_for, worker_for
from training.tasks import judge_pairs

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path, monkeypatch):
    with worker_for(judge_pairs, tmp_path, monkeypatch) as worker:
        yield worker


def test_a_judge_job_on_a_worker_judges_every_pair_and_reports_its_counts(
    worker, tiny_base_model, lena, api_for, data_dir
):
    campaign = CampaignFactory(slug="to-judge", locales=[LocaleFactory(code="en-US")])
    for i in range(3):
        prompt = PromptFactory(campaign=campaign, external_id=f"p{i}", text=f"the bird {i}")
        ComparisonFactory(
            prompt=prompt,
            candidate_a=CandidateFactory(prompt=prompt, text="a black bird"),
            candidate_b=CandidateFactory(prompt=prompt, text="each table"),
        )
    body = {"model": f"base:{tiny_base_model.id}", "campaign": "to-judge"}
    response = api_for(lena).post("/api/v1/judge-jobs", body, format="json")
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]

    def state() -> dict:
        return api_for(lena).get(f"/api/v1/judge-jobs/{job_id}").json()

    wait_for(lambda: state()["status"] not in ("queued", "running"), timeout=120, message=worker.logs)
    done = state()
    assert done["status"] == "succeeded", done["error"] + worker.logs()
    assert done["worker"] == worker.name and done["progress"] == {"pairs_done": 3, "pairs_total": 3, "percent": 100}
    counts = done["counts"]
    # The tiny model is random: it never answers in the format, and what it said is kept, not guessed at.
    assert counts["judged"] + counts["unparseable"] == 3
    assert Judgment.objects.filter(comparison__campaign=campaign, source="ai").count() == counts["judged"]
    assert len(done["result"]["unparseable_answers"]) == counts["unparseable"]
