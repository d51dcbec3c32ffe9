"""End to end on a real Celery worker process: a margin job scores a campaign's answers, then an export uses them."""

from __future__ import annotations

import pytest

from annotate.models import CandidateLogProb
from tests.factories import CampaignFactory, CandidateFactory, ComparisonFactory, JudgmentFactory, PromptFactory
from tests.training.worker import wait_for, worker_for
from training.tasks import score_margins

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path, monkeypatch):
    with worker_for(score_margins, tmp_path, monkeypatch) as worker:
        yield worker


def test_a_job_on_a_worker_scores_answers_that_an_export_then_filters_on(
    worker, tiny_base_model, lena, api_for, data_dir
):
    campaign = CampaignFactory(slug="helpful", overlap=1)
    for i, (a, b) in enumerate([("the bird sat", "no"), ("a cat", "the dog ran away fast"), ("yes", "yes")]):
        prompt = PromptFactory(campaign=campaign, text=f"the question {i}")
        comparison = ComparisonFactory(
            prompt=prompt,
            candidate_a=CandidateFactory(prompt=prompt, text=a),
            candidate_b=CandidateFactory(prompt=prompt, text=b),
        )
        JudgmentFactory(comparison=comparison, outcome="a")
    api = api_for(lena)
    response = api.post("/api/v1/margin-jobs", {"base_model": tiny_base_model.id, "campaign": "helpful"}, format="json")
    assert response.status_code == 201, response.json()
    job_id = response.json()["id"]

    def state() -> dict:
        return api.get(f"/api/v1/margin-jobs/{job_id}").json()

    wait_for(lambda: state()["status"] not in ("queued", "running"), timeout=120, message=worker.logs)
    done = state()
    assert done["status"] == "succeeded", done["error"] + worker.logs()
    assert done["worker"] == worker.name and done["progress"] == {
        "answers_done": 6,
        "answers_total": 6,
        "answers_cached": 0,
        "percent": 100,
    }
    digest = done["model_digest"]
    assert CandidateLogProb.objects.filter(model_digest=digest).count() == 6
    worker.stop()  # its beat writes would contend with the export's on SQLite

    policy = {"reference_model_digest": digest, "max_margin_nats": 0, "margin_unit": "sum", "test_share": 0}
    exported = api.post("/api/v1/snapshots", {"campaigns": ["helpful"], "policy": policy}, format="json")
    assert exported.status_code == 201, exported.json()
    difficulty = exported.json()["counts"]["difficulty"]
    assert difficulty["margins"]["scored"] == 3 and difficulty["margins"]["unscored"] == 0
    # With m = 0, every pair whose winner (A) the reference already prefers is too easy; identical answers (margin
    # exactly 0) are not.
    logp = dict(CandidateLogProb.objects.filter(model_digest=digest).values_list("candidate__text", "logprob_sum"))
    expected = sum(logp[a] > logp[b] for a, b in [("the bird sat", "no"), ("a cat", "the dog ran away fast")])
    assert difficulty["dropped"]["too_easy"] == expected == exported.json()["counts"]["per_reason"]["too_easy"]
    assert difficulty["near_duplicates_flagged"] == 1
