"""The admin shows the jobs, caches and evaluation records that services and workers write, and never adds them."""

from __future__ import annotations

import pytest

from annotate.models import CandidateLogProb, ProtectedPrompt
from evaluation.models import EvaluationCampaign
from tests.evaluation.judged import evaluated_run
from tests.factories import BaseModelFactory, CampaignFactory, CandidateFactory, UserFactory
from training.models import GenerationJob, JudgeJob, MarginJob


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def records(db) -> dict[str, object]:
    campaign = CampaignFactory(slug="admin-eval")
    evaluated_run(campaign)
    return {
        "training/generationjob": GenerationJob.objects.create(
            name="eval answers", prompts_file="prompts.jsonl", target_slug="admin-eval"
        ),
        "training/judgejob": JudgeJob.objects.create(campaign=campaign),
        "training/marginjob": MarginJob.objects.create(campaign=campaign, base_model=BaseModelFactory()),
        "annotate/candidatelogprob": CandidateLogProb.objects.create(
            candidate=CandidateFactory(), model_digest="ab" * 32, model_name="tiny", logprob_sum=-3.5, tokens=7
        ),
        "annotate/protectedprompt": ProtectedPrompt.objects.create(
            digest="cd" * 32, locale_code="en-US", preview="how do I get a refund", reason="evaluation of run #1"
        ),
        "evaluation/evaluationcampaign": EvaluationCampaign.objects.get(campaign=campaign),
    }


@pytest.mark.parametrize(
    "model",
    [
        "training/generationjob",
        "training/judgejob",
        "training/marginjob",
        "annotate/candidatelogprob",
        "annotate/protectedprompt",
        "evaluation/evaluationcampaign",
    ],
)
def test_the_admin_lists_and_shows_it_read_only_and_never_adds_one(admin_client, records, model):
    record = records[model]

    listing = admin_client.get(f"/admin/{model}/")
    change = admin_client.get(f"/admin/{model}/{record.pk}/change/")
    add = admin_client.get(f"/admin/{model}/add/")

    assert listing.status_code == 200 and f"/admin/{model}/{record.pk}/change/" in listing.content.decode()
    assert change.status_code == 200
    form = change.context["adminform"].form
    assert list(form.fields) == []  # every field read-only: nothing to type into
    assert add.status_code == 403
