"""Judge jobs: a pinned model judges a campaign's pairs in both orders, its verdicts stored as AI judgments.

The tiny model is random (it never writes a verdict), so these tests give it a scripted answerer: it answers by the
texts it is shown, as a judge with known habits would. The real model's figures are in bench/judge_agreement.py.
"""

from __future__ import annotations

import pytest

from annotate.models import Assignment, Comparison, Judgment
from annotate.services.ai_judgments import AiJudge, AiJudgmentsRejected, ai_judgments_record
from tests.factories import (
    CampaignFactory,
    CandidateFactory,
    ComparisonFactory,
    JudgmentFactory,
    LocaleFactory,
    PromptFactory,
    UserFactory,
)
from training.engine import judge as engine_judge
from training.judge_serializers import JudgeJobDetailSerializer
from training.models import JudgeJob
from training.services import judge_jobs

Status = JudgeJob.Status


@pytest.fixture(autouse=True)
def no_broker(monkeypatch, data_dir):
    """Jobs are executed in-process here; the task is never sent."""
    monkeypatch.setattr("training.tasks.judge_pairs.apply_async", lambda *a, **kw: None)


@pytest.fixture
def scripted(monkeypatch):
    """The model answers by what it is shown: the answer holding "good" wins; "biased" pairs always get A (a flip
    with the order); "garbage" pairs get an answer out of the format."""

    def answerer(model, tokenizer, **kwargs):
        def answer(prompts: list[str]) -> list[str]:
            replies = []
            for prompt in prompts:
                first = prompt.split("[Answer A]\n")[1].split("\n[End of answer A]")[0]
                if "biased" in prompt:
                    replies.append(" A")
                elif "garbage" in prompt:
                    replies.append(" I like both of them")
                else:
                    replies.append(" A" if "good" in first else " B")
            return replies

        return answer

    monkeypatch.setattr(engine_judge, "greedy_answerer", answerer)


@pytest.fixture
def campaign(db):
    """Five pairs: two the judge gets right, one it flips on, one it answers out of format, one it gets wrong."""
    campaign = CampaignFactory(slug="judged", locales=[LocaleFactory(code="en-US")])
    texts = [
        ("q1", "good answer", "poor answer"),
        ("q2", "poor answer", "good answer"),
        ("q3 biased", "one", "two"),
        ("q4 garbage", "one", "two"),
        ("q5", "good but wrong", "poor but right"),
    ]
    for i, (prompt, a, b) in enumerate(texts):
        p = PromptFactory(campaign=campaign, external_id=f"p{i}", text=prompt)
        ComparisonFactory(
            prompt=p, candidate_a=CandidateFactory(prompt=p, text=a), candidate_b=CandidateFactory(prompt=p, text=b)
        )
    return campaign


def humans_say(campaign, outcomes: list[str]) -> None:
    """Two reviewers agree on each pair's outcome: the human majority."""
    people = [UserFactory(role="reviewer"), UserFactory(role="reviewer")]
    for comparison, outcome in zip(Comparison.objects.filter(campaign=campaign).order_by("id"), outcomes, strict=True):
        for person in people:
            JudgmentFactory(comparison=comparison, reviewer=person, outcome=outcome)


def create(model: str, lena, **options) -> JudgeJob:
    return judge_jobs.judge_job_create(
        model=model, campaign=options.pop("campaign", "judged"), requested_by=lena, **options
    )


def test_a_job_stores_verdicts_as_ai_judgments_with_their_order_consistency(campaign, tiny_base_model, scripted, lena):
    job = create(f"base:{tiny_base_model.id}", lena)
    assert (job.status, job.pairs_total, job.judge["model"]) == (Status.QUEUED, 5, "tiny")
    assert judge_jobs.judge_job_execute(job_id=job.id, worker="w1") == Status.SUCCEEDED
    job.refresh_from_db()
    assert (job.pairs_done, job.judged, job.flips, job.unparseable, job.skipped) == (5, 4, 1, 1, 0)
    assert job.position_consistency == 0.75 and job.unparseable_share == 0.2 and job.percent == 100
    judgments = Judgment.objects.filter(comparison__campaign=campaign, source="ai").order_by("comparison_id")
    assert [(j.outcome, j.order_consistent) for j in judgments] == [
        ("a", True),
        ("b", True),
        ("tie", False),
        ("a", True),
    ]
    identity = judgments[0].reviewer.judge_identity
    assert (identity.model_name, identity.prompt_sha256) == ("tiny", engine_judge.TEMPLATE_SHA256)
    assert identity.model_version == tiny_base_model.revision[:16]
    # AI judgments hold no slot of the human review pool.
    assert set(Assignment.objects.filter(reviewer=judgments[0].reviewer).values_list("state", flat=True)) == {
        "unpooled"
    }
    assert set(Comparison.objects.filter(campaign=campaign).values_list("taken", flat=True)) == {0}
    [unparsed] = job.result["unparseable_answers"]
    assert unparsed["answers"] == [" I like both of them", " I like both of them"]


def test_running_the_judge_again_writes_nothing_twice(campaign, tiny_base_model, scripted, lena):
    first = create(f"base:{tiny_base_model.id}", lena, limit=2)
    judge_jobs.judge_job_execute(job_id=first.id)
    assert judge_jobs.judge_job_execute(job_id=first.id) is None  # a second delivery claims nothing
    again = create(f"base:{tiny_base_model.id}", lena)
    assert judge_jobs.judge_job_execute(job_id=again.id) == Status.SUCCEEDED
    again.refresh_from_db()
    assert (again.skipped, again.judged, again.pairs_done) == (2, 2, 5)
    assert Judgment.objects.filter(source="ai").count() == 4


def test_an_adapter_judges_under_its_own_identity(campaign, adapter_run, scripted, lena):
    job = create(f"run:{adapter_run.id}", lena, limit=1)
    judge_jobs.judge_job_execute(job_id=job.id)
    identity = Judgment.objects.get(source="ai").reviewer.judge_identity
    assert (identity.model_name, identity.model_version) == ("round one", f"run-{adapter_run.id}")


def test_the_agreement_with_the_human_majority_is_measured_on_the_judged_pairs(
    campaign, tiny_base_model, scripted, lena
):
    humans_say(campaign, ["a", "b", "a", "a", "b"])
    job = create(f"base:{tiny_base_model.id}", lena)
    judge_jobs.judge_job_execute(job_id=job.id)
    from training.judge_selectors import job_agreement

    agreement = job_agreement(job=job)
    # Judged: a (right), b (right), tie (humans said a), a (humans said b); the garbage pair has no judgment.
    assert agreement["with_majority"] == 4 and agreement["accuracy"] == 0.5
    assert agreement["tie_share"] == 0.25 and agreement["position_consistency"] == 0.75
    labels = agreement["labels"]
    confusion = agreement["confusion"]
    assert confusion[labels.index("tie")][labels.index("a")] == 1
    assert confusion[labels.index("a")][labels.index("b")] == 1
    assert -1 <= agreement["kappa"] < 1


@pytest.mark.parametrize(
    ("model", "campaign_slug", "limit", "field"),
    [
        ("", "judged", None, "model"),
        ("base:999999", "judged", None, "model"),
        ("run:999999", "judged", None, "model"),
        ("gpt:4", "judged", None, "model"),
        ("BASE", "nope", None, "campaign"),
        ("BASE", "judged", 0, "limit"),
    ],
)
def test_bad_choices_are_refused_with_field_errors(campaign, tiny_base_model, lena, model, campaign_slug, limit, field):
    model = model.replace("BASE", f"base:{tiny_base_model.id}")
    with pytest.raises(judge_jobs.JudgeRejected) as refused:
        create(model, lena, campaign=campaign_slug, limit=limit)
    assert field in refused.value.errors and not JudgeJob.objects.exists()


def test_a_campaign_without_pairs_is_refused(db, tiny_base_model, lena):
    CampaignFactory(slug="empty")
    with pytest.raises(judge_jobs.JudgeRejected) as refused:
        create(f"base:{tiny_base_model.id}", lena, campaign="empty")
    assert "no pairs" in refused.value.errors["campaign"][0]


def test_cancel_stops_a_queued_job_at_once_and_a_running_one_before_its_next_chunk(
    campaign, tiny_base_model, scripted, lena
):
    queued = create(f"base:{tiny_base_model.id}", lena)
    assert judge_jobs.judge_job_cancel(job_id=queued.id).status == Status.CANCELLED
    assert judge_jobs.judge_job_execute(job_id=queued.id) is None
    with pytest.raises(judge_jobs.JudgeRejected):
        judge_jobs.judge_job_cancel(job_id=queued.id)

    running = create(f"base:{tiny_base_model.id}", lena)
    JudgeJob.objects.filter(id=running.id).update(status=Status.RUNNING)
    assert judge_jobs.judge_job_cancel(job_id=running.id).cancel_requested
    JudgeJob.objects.filter(id=running.id).update(status=Status.QUEUED)  # as if the worker claims it only now
    assert judge_jobs.judge_job_execute(job_id=running.id) == Status.CANCELLED
    assert not Judgment.objects.filter(source="ai").exists()


def test_a_running_job_whose_worker_is_gone_is_marked_lost(campaign, tiny_base_model, lena):
    from datetime import timedelta

    from django.utils import timezone

    job = create(f"base:{tiny_base_model.id}", lena)
    JudgeJob.objects.filter(id=job.id).update(
        status=Status.RUNNING, worker="gone@host", started_at=timezone.now() - timedelta(hours=1)
    )
    assert judge_jobs.judge_jobs_mark_lost() == 1
    job.refresh_from_db()
    assert job.status == Status.FAILED and "worker lost" in job.error


def test_the_annotate_writer_refuses_pairs_of_another_campaign_and_non_verdicts(campaign):
    other = ComparisonFactory()
    judge = AiJudge(model="m", version="1", prompt_sha256="0" * 64)
    with pytest.raises(AiJudgmentsRejected, match="comparison"):
        ai_judgments_record(campaign=campaign, judge=judge, verdicts=[(other.id, "a", True)])
    mine = Comparison.objects.filter(campaign=campaign).first()
    with pytest.raises(AiJudgmentsRejected, match="outcome"):
        ai_judgments_record(campaign=campaign, judge=judge, verdicts=[(mine.id, "escalate", True)])
    first = ai_judgments_record(campaign=campaign, judge=judge, verdicts=[(mine.id, "a", True)])
    again = ai_judgments_record(campaign=campaign, judge=judge, verdicts=[(mine.id, "b", False)])
    assert (first.created, again.created, again.already_present) == (1, 0, 1)
    assert Judgment.objects.get(source="ai").outcome == "a"


# --- the API and pages ----------------------------------------------------------------------------------------


def test_the_api_creates_lists_reads_and_cancels_a_job(campaign, tiny_base_model, scripted, lena, api_for):
    api = api_for(lena)
    created = api.post(
        "/api/v1/judge-jobs", {"model": f"base:{tiny_base_model.id}", "campaign": "judged"}, format="json"
    )
    assert created.status_code == 201, created.json()
    job_id = created.json()["id"]
    assert [job["id"] for job in api.get("/api/v1/judge-jobs").json()] == [job_id]
    judge_jobs.judge_job_execute(job_id=job_id)
    detail = api.get(f"/api/v1/judge-jobs/{job_id}").json()
    assert detail["status"] == "succeeded" and detail["counts"]["judged"] == 4
    assert detail["counts"]["position_consistency"] == 0.75
    assert detail["agreement"]["judgments"] == 4  # no human judgments: no majority to compare with
    assert detail["agreement"]["with_majority"] == 0
    documented = JudgeJobDetailSerializer(data=detail)  # the body has the documented shape, field for field
    assert documented.is_valid(), documented.errors
    assert set(detail) == set(documented.fields)
    assert api.post(f"/api/v1/judge-jobs/{job_id}/cancel").status_code == 409


def test_the_api_answers_bad_input_with_field_errors(campaign, tiny_base_model, lena, api_for):
    api = api_for(lena)
    response = api.post("/api/v1/judge-jobs", {"model": "base:999999", "campaign": "judged"}, format="json")
    assert response.status_code == 400 and "model" in response.json()
    response = api.post("/api/v1/judge-jobs", {"model": f"base:{tiny_base_model.id}", "limit": "x"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"campaign", "limit"}


def test_reviewers_cannot_start_a_judge(campaign, tiny_base_model, alice, api_for):
    body = {"model": f"base:{tiny_base_model.id}", "campaign": "judged"}
    assert api_for(alice).post("/api/v1/judge-jobs", body, format="json").status_code == 403


def test_the_pages_start_a_job_and_show_its_counts_and_agreement(campaign, tiny_base_model, scripted, lena, client_for):
    humans_say(campaign, ["a", "b", "a", "a", "b"])
    client = client_for(lena)
    page = client.get("/training/judge")
    assert page.status_code == 200 and f"base:{tiny_base_model.id}" in page.content.decode()
    refused = client.post("/training/judge", {"model": "", "campaign": "judged"})
    assert refused.status_code == 400 and "model: " in refused.content.decode()
    started = client.post("/training/judge", {"model": f"base:{tiny_base_model.id}", "campaign": "judged", "limit": ""})
    job = JudgeJob.objects.get()
    assert started.status_code == 302 and started.url == f"/training/judge-jobs/{job.id}/"
    card = client.get(f"/training/judge-jobs/{job.id}/progress", HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and 'hx-trigger="every 1s"' in card.content.decode()
    judge_jobs.judge_job_execute(job_id=job.id)
    card = client.get(f"/training/judge-jobs/{job.id}/progress", HTTP_HX_REQUEST="true")
    assert card.status_code == 286  # done: stop polling
    html = client.get(f"/training/judge-jobs/{job.id}/").content.decode()
    assert "0.750" in html  # position consistency
    assert 'class="accuracy">0.500' in html
    assert "Judge × human majority" in html
    assert "I like both of them" in html
    cancelled = client.post(f"/training/judge-jobs/{job.id}/cancel")
    assert cancelled.status_code == 302
