"""Margin jobs in the worker process: a campaign's answers scored under a base model, cached per digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.export_policy import ExportPolicy
from annotate.models import CandidateLogProb
from annotate.services.exporting import export_preview
from tests.factories import (
    CampaignFactory,
    CandidateFactory,
    ComparisonFactory,
    JudgmentFactory,
    PromptFactory,
    TrainingWorkerFactory,
)
from training.engine.digest import model_digest
from training.engine.margin_logps import AnswerRow, answer_logps, load_scorer
from training.models import MarginJob
from training.services import margin_jobs

Status = MarginJob.Status


@pytest.fixture(autouse=True)
def no_broker(monkeypatch, data_dir):
    """Jobs are executed in-process here; the task is never sent."""
    sent = []
    monkeypatch.setattr("training.tasks.score_margins.apply_async", lambda *a, **kw: sent.append((a, kw)))
    return sent


@pytest.fixture
def campaign(db):
    """Two judged pairs over three answers of one prompt, one chat pair, and an answer in no pair."""
    campaign = CampaignFactory(slug="helpful", overlap=1)
    prompt = PromptFactory(campaign=campaign, text="the cat")
    a, b, c = (CandidateFactory(prompt=prompt, text=t) for t in ("sat on the mat", "ran away", "the bird"))
    CandidateFactory(prompt=prompt, text="never paired")
    chat = PromptFactory(campaign=campaign, text="", messages=[{"role": "user", "content": "Name a pet."}])
    for comparison in (
        ComparisonFactory(prompt=prompt, candidate_a=a, candidate_b=b),
        ComparisonFactory(prompt=prompt, candidate_a=a, candidate_b=c),
        ComparisonFactory(prompt=chat),
    ):
        JudgmentFactory(comparison=comparison, outcome="a")
    return campaign


def test_a_job_scores_every_paired_answer_as_the_engine_does(
    campaign, tiny_base_model, lena, no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = margin_jobs.margin_job_create(
            base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena
        )
    assert job.status == Status.QUEUED and [call[1]["task_id"] for call in no_broker] == [job.celery_task_id]
    assert margin_jobs.margin_job_execute(job_id=job.id, worker="w1") == Status.SUCCEEDED
    job.refresh_from_db()
    digest = model_digest(tiny_base_model.path)
    assert job.model_digest == digest and job.worker == "w1"
    assert (job.answers_total, job.answers_done, job.answers_cached, job.percent) == (5, 5, 0, 100)
    stored = CandidateLogProb.objects.filter(model_digest=digest).select_related("candidate__prompt")
    assert stored.count() == 5 and not stored.filter(candidate__text="never paired").exists()
    model, tokenizer = load_scorer(tiny_base_model.path, device="cpu")
    row = stored.get(candidate__text="sat on the mat")
    [expected] = answer_logps(model, tokenizer, [AnswerRow(prompt="the cat", answer="sat on the mat")])
    assert row.logprob_sum == pytest.approx(expected.logp_sum, abs=1e-4) and row.tokens == expected.tokens
    assert row.model_name == "tiny"


def test_a_second_job_scores_only_what_is_new(campaign, tiny_base_model, lena):
    first = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    margin_jobs.margin_job_execute(job_id=first.id)
    before = dict(CandidateLogProb.objects.values_list("candidate_id", "logprob_sum"))
    prompt = campaign.prompts.get(text="the cat")
    ComparisonFactory(prompt=prompt, candidate_a=CandidateFactory(prompt=prompt, text="a new answer"))
    second = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    assert margin_jobs.margin_job_execute(job_id=second.id) == Status.SUCCEEDED
    second.refresh_from_db()
    assert (second.answers_total, second.answers_cached) == (2, 5)
    after = dict(CandidateLogProb.objects.values_list("candidate_id", "logprob_sum"))
    assert len(after) == 7 and all(after[key] == value for key, value in before.items())


def test_the_scores_feed_the_exports_margins(campaign, tiny_base_model, lena):
    job = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    margin_jobs.margin_job_execute(job_id=job.id)
    job.refresh_from_db()
    policy = ExportPolicy(reference_model_digest=job.model_digest, min_judgments=1)
    counts = export_preview(campaigns=[campaign], policy=policy)
    assert counts["difficulty"]["margins"]["scored"] == 3 and counts["difficulty"]["margins"]["unscored"] == 0


def test_a_second_delivery_claims_nothing(campaign, tiny_base_model, lena):
    job = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    assert margin_jobs.margin_job_execute(job_id=job.id) == Status.SUCCEEDED
    assert margin_jobs.margin_job_execute(job_id=job.id) is None


def test_unknown_models_and_campaigns_are_refused_by_field(campaign, tiny_base_model, unregistered_model, lena):
    with pytest.raises(margin_jobs.MarginRejected) as refused:
        margin_jobs.margin_job_create(base_model_id=999999, campaign_slug="nope", requested_by=lena)
    assert set(refused.value.errors) == {"base_model", "campaign"}
    with pytest.raises(margin_jobs.MarginRejected, match="outside VERDICT_MODEL_DIRS"):
        margin_jobs.margin_job_create(base_model_id=unregistered_model.id, campaign_slug="helpful", requested_by=lena)
    assert not MarginJob.objects.exists()


def test_a_model_without_a_chat_template_is_refused_for_chat_prompts(campaign, tiny_base_model, lena):
    tiny_base_model.has_chat_template = False
    tiny_base_model.save()
    with pytest.raises(margin_jobs.MarginRejected, match="tiny has no chat template, and helpful has chat prompts"):
        margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)


def test_a_cancelled_running_job_stops_after_its_chunk_and_keeps_it(campaign, tiny_base_model, lena, monkeypatch):
    monkeypatch.setattr(margin_jobs, "CHUNK_SIZE", 2)
    job = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    real_store = margin_jobs.candidate_logprobs_store

    def store_then_cancel(**kwargs):
        created = real_store(**kwargs)
        margin_jobs.margin_job_cancel(job_id=job.id)
        return created

    monkeypatch.setattr(margin_jobs, "candidate_logprobs_store", store_then_cancel)
    assert margin_jobs.margin_job_execute(job_id=job.id) == Status.CANCELLED
    job.refresh_from_db()
    assert job.cancel_requested and job.answers_done == 2 and CandidateLogProb.objects.count() == 2


def test_a_queued_job_cancels_at_once_and_an_ended_one_refuses(campaign, tiny_base_model, lena):
    job = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    assert margin_jobs.margin_job_cancel(job_id=job.id).status == Status.CANCELLED
    with pytest.raises(margin_jobs.MarginRejected, match="is cancelled"):
        margin_jobs.margin_job_cancel(job_id=job.id)
    assert margin_jobs.margin_job_execute(job_id=job.id) is None


def test_a_failure_is_kept_on_the_job(campaign, tiny_base_model, lena, monkeypatch):
    job = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("training.engine.margin_logps.load_scorer", broken)
    assert margin_jobs.margin_job_execute(job_id=job.id) == Status.FAILED
    job.refresh_from_db()
    assert job.error == "RuntimeError: out of memory" and job.finished_at is not None


def test_jobs_of_dead_workers_are_marked_lost(campaign, tiny_base_model, lena):
    now = timezone.now()
    TrainingWorkerFactory(name="training@alive", last_seen_at=now)
    TrainingWorkerFactory(name="training@dead", last_seen_at=now - timedelta(hours=1))
    jobs = [
        margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
        for _ in range(2)
    ]
    for job, worker in zip(jobs, ("training@alive", "training@dead"), strict=True):
        MarginJob.objects.filter(id=job.id).update(
            status=Status.RUNNING, worker=worker, started_at=now - timedelta(hours=1)
        )
    assert margin_jobs.margin_jobs_mark_lost(now=now) == 1
    lost = MarginJob.objects.get(id=jobs[1].id)
    assert lost.status == Status.FAILED and "training@dead" in lost.error


# --- API and pages ------------------------------------------------------------------------------------------------


def test_the_api_starts_reads_and_cancels_a_job(api_for, lena, campaign, tiny_base_model):
    api = api_for(lena)
    created = api.post("/api/v1/margin-jobs", {"base_model": tiny_base_model.id, "campaign": "helpful"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "queued" and body["campaign"] == "helpful" and body["base_model"]["name"] == "tiny"
    assert api.get(f"/api/v1/margin-jobs/{body['id']}").json()["id"] == body["id"]
    assert [job["id"] for job in api.get("/api/v1/margin-jobs").json()] == [body["id"]]
    cancelled = api.post(f"/api/v1/margin-jobs/{body['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.post(f"/api/v1/margin-jobs/{body['id']}/cancel").status_code == 409


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"campaign": "helpful"}, "base_model"),
        ({"base_model": 999999, "campaign": "helpful"}, "base_model"),
        ({"base_model": 1, "campaign": "no such"}, "campaign"),
    ],
)
def test_the_api_names_what_is_wrong(api_for, lena, campaign, payload, field):
    response = api_for(lena).post("/api/v1/margin-jobs", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not MarginJob.objects.exists()


def test_reviewers_cannot_start_jobs(api_for, alice, campaign, tiny_base_model):
    response = api_for(alice).post("/api/v1/margin-jobs", {"base_model": tiny_base_model.id, "campaign": "helpful"})
    assert response.status_code == 403


def test_the_page_starts_a_job_and_its_card_stops_polling_when_done(client_for, lena, campaign, tiny_base_model):
    client = client_for(lena)
    page = client.get(reverse("training:margins") + "?campaign=helpful")
    assert page.status_code == 200 and b'value="helpful" selected' in page.content
    response = client.post(reverse("training:margins"), {"base_model": tiny_base_model.id, "campaign": "helpful"})
    job = MarginJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("training:margin_job", args=[job.id])
    card = client.get(reverse("training:margin_progress", args=[job.id]), HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and b'hx-trigger="every 1s"' in card.content
    margin_jobs.margin_job_execute(job_id=job.id)
    done = client.get(reverse("training:margin_progress", args=[job.id]), HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and b"5</strong> / 5 answers scored" in done.content
    assert b"every 1s" not in done.content
    detail = client.get(reverse("training:margin_job", args=[job.id]))
    assert detail.status_code == 200 and job.base_model.name.encode() in detail.content


def test_the_page_shows_what_is_wrong(client_for, lena, campaign):
    response = client_for(lena).post(reverse("training:margins"), {"base_model": "999999", "campaign": "helpful"})
    assert response.status_code == 400 and b"no registered base model with id 999999" in response.content


def test_the_page_cancels_a_queued_job(client_for, lena, campaign, tiny_base_model):
    job = margin_jobs.margin_job_create(base_model_id=tiny_base_model.id, campaign_slug="helpful", requested_by=lena)
    response = client_for(lena).post(reverse("training:margin_cancel", args=[job.id]))
    job.refresh_from_db()
    assert response.status_code == 302 and job.status == Status.CANCELLED
