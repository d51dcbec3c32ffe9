"""Evaluation campaigns: "Evaluate with reviewers" protects the prompts, creates the campaign and one generation job
in which the run and its baseline answer with the same settings; bad requests get field errors and change nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from annotate import selectors as annotate_selectors
from annotate.export_policy import ExportPolicy
from annotate.models import Campaign, ProtectedPrompt
from annotate.services.exporting import snapshot_create
from evaluation import services as evaluation_services
from evaluation.models import EvaluationCampaign
from evaluation.services import DEFAULT_SETTINGS, EvaluationRejected, evaluation_campaign_create
from tests.evaluation.runs import make_adapter_run
from tests.factories import CampaignFactory, LocaleFactory, PromptFactory
from training.models import GenerationJob, TrainingRun


def split_prompts(snapshot, split: str) -> set[str]:
    return {row["prompt"] for row in annotate_selectors.snapshot_split_rows(snapshot=snapshot, split=split)}


def evaluate(run, baseline, **kwargs) -> EvaluationCampaign:
    return evaluation_campaign_create(run=run, baseline=baseline, requested_by=None, **kwargs)


def test_evaluating_a_run_protects_its_test_split_and_queues_both_models_with_one_set_of_settings(
    adapter_run, tiny_base_model, trained_snapshot, lena
):
    evaluation = evaluation_campaign_create(
        run=adapter_run, baseline=f"base:{tiny_base_model.id}", requested_by=lena, overlap=2
    )

    campaign = evaluation.campaign
    trained_on = Campaign.objects.get(slug="helpful")
    assert campaign.purpose == Campaign.Purpose.EVALUATION and campaign.overlap == 2
    assert campaign.rubric == trained_on.rubric
    assert [locale.code for locale in campaign.locales.all()] == ["en-US"]
    job = evaluation.generation_job
    assert [pin["name"] for pin in job.pinned_models] == ["round one", "tiny"]
    assert job.settings == DEFAULT_SETTINGS == evaluation.generation_settings
    assert job.pairs == "across-models" and job.target_slug == campaign.slug
    assert job.source["kind"] == "evaluation" and job.source["snapshot"] == trained_snapshot.version
    test_prompts = split_prompts(trained_snapshot, "test")
    assert job.prompt_count == len(test_prompts)
    assert (evaluation.run_model, evaluation.run_model_version) == ("round one", f"run-{adapter_run.id}")
    assert evaluation.baseline_model == "tiny" and evaluation.baseline_model_version.startswith("sha256:")
    assert evaluation.created_by == lena

    for text in test_prompts:
        assert annotate_selectors.prompt_is_protected(prompt=text, locale="en-US")
    for text in split_prompts(trained_snapshot, "train"):
        assert not annotate_selectors.prompt_is_protected(prompt=text, locale="en-US")
    record = ProtectedPrompt.objects.first()
    assert record.run_id == adapter_run.id and record.campaign == campaign and record.created_by == lena


def test_a_later_export_of_the_trained_campaign_keeps_the_evaluated_prompts_out_of_train(
    adapter_run, tiny_base_model, trained_snapshot
):
    evaluate(adapter_run, f"base:{tiny_base_model.id}")
    later = snapshot_create(
        campaigns=[Campaign.objects.get(slug="helpful")], policy=ExportPolicy(test_share=0.0), created_by=None
    )
    assert split_prompts(later, "train").isdisjoint(split_prompts(trained_snapshot, "test"))
    assert split_prompts(later, "test") == split_prompts(trained_snapshot, "test")
    assert later.manifest["counts"]["protected_to_test"] == len(split_prompts(trained_snapshot, "test"))


def test_another_run_can_be_the_baseline(adapter_run, tiny_base_model, trained_snapshot, tmp_path):
    other = make_adapter_run(trained_snapshot, tiny_base_model, tmp_path / "other", name="round zero", seed=1)
    evaluation = evaluate(adapter_run, f"run:{other.id}")
    assert (evaluation.baseline_model, evaluation.baseline_model_version) == ("round zero", f"run-{other.id}")


def test_evaluating_the_same_run_against_the_same_baseline_twice_gives_two_campaigns(adapter_run, tiny_base_model):
    first = evaluate(adapter_run, f"base:{tiny_base_model.id}")
    second = evaluate(adapter_run, f"base:{tiny_base_model.id}")

    assert first.campaign_id != second.campaign_id
    assert second.campaign.slug == f"{first.campaign.slug}-2"
    assert second.generation_job.target_slug == second.campaign.slug


def test_reviewers_read_nothing_of_the_run_or_the_baseline_in_the_campaign(
    client_for, alice, adapter_run, tiny_base_model
):
    evaluation = evaluate(adapter_run, f"base:{tiny_base_model.id}")
    campaign = evaluation.campaign
    page = client_for(alice).get(reverse("review_campaign", args=[campaign.slug])).content.decode()
    home = client_for(alice).get(reverse("home")).content.decode()

    assert campaign.name in home or campaign.name in page  # reviewers do see the campaign
    for leak in (f"run #{adapter_run.id}", f"run-{adapter_run.id}", f"base:{tiny_base_model.id}", adapter_run.name):
        assert leak not in campaign.slug + campaign.name
        assert leak not in page and leak not in home
    for model in (evaluation.run_model, evaluation.baseline_model):
        assert model not in page and model not in home


def test_an_evaluation_that_loses_the_race_for_a_slug_takes_the_next_one(adapter_run, tiny_base_model, monkeypatch):
    baseline = f"base:{tiny_base_model.id}"
    taken = evaluation_services._slug_stem(adapter_run)
    # Another request created the campaign after this one found the slug free (and before its insert).
    CampaignFactory(slug=taken)
    monkeypatch.setattr(evaluation_services, "_taken_slugs", lambda stem: set())

    evaluation = evaluate(adapter_run, baseline)

    assert evaluation.campaign.slug == f"{taken}-2"
    assert evaluation.campaign.purpose == Campaign.Purpose.EVALUATION
    assert Campaign.objects.filter(slug__startswith=taken).count() == 2


def test_a_campaign_named_as_prompts_is_protected_and_answered(adapter_run, tiny_base_model):
    held_out = CampaignFactory(slug="held-out", locales=[LocaleFactory(code="en-US")])
    PromptFactory(campaign=held_out, external_id="h1", text="A held-out question")
    evaluation = evaluate(adapter_run, f"base:{tiny_base_model.id}", prompts="held-out")
    assert evaluation.generation_job.source_campaign == held_out and evaluation.generation_job.prompt_count == 1
    assert annotate_selectors.prompt_is_protected(prompt="a held-out  QUESTION", locale="en-US")


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"baseline": "run:SELF"}, "baseline", "other than the run itself"),
        ({"baseline": "model:1"}, "baseline", "expected base:ID"),
        ({"baseline": "base:999999"}, "baseline", "no registered base model"),
        ({"baseline": "run:999999"}, "baseline", "no succeeded run"),
        ({"overlap": 0}, "overlap", "from 1 to 10"),
        ({"prompts": "no-such-campaign"}, "prompts", "no campaign 'no-such-campaign'"),
        ({"settings_values": {"temperature": -1.0}}, "temperature", "0 (greedy) or more"),
    ],
)
def test_a_bad_request_names_its_field_and_creates_nothing(adapter_run, tiny_base_model, change, field, words):
    arguments = {"baseline": f"base:{tiny_base_model.id}", **change}
    if arguments["baseline"] == "run:SELF":
        arguments["baseline"] = f"run:{adapter_run.id}"
    before = (Campaign.objects.count(), ProtectedPrompt.objects.count(), GenerationJob.objects.count())
    with pytest.raises(EvaluationRejected) as refused:
        evaluate(adapter_run, **arguments)
    assert words in " ".join(refused.value.errors[field])
    after = (Campaign.objects.count(), ProtectedPrompt.objects.count(), GenerationJob.objects.count())
    assert after == before and not EvaluationCampaign.objects.exists()


def test_only_a_succeeded_run_is_evaluated(adapter_run, tiny_base_model):
    TrainingRun.objects.filter(id=adapter_run.id).update(status=TrainingRun.Status.RUNNING)
    adapter_run.refresh_from_db()
    with pytest.raises(EvaluationRejected) as refused:
        evaluate(adapter_run, f"base:{tiny_base_model.id}")
    assert "only a succeeded run" in refused.value.errors["run"][0]


# --- the API -------------------------------------------------------------------------------------------------------


def test_the_api_starts_lists_and_reads_an_evaluation(api_for, lena, adapter_run, tiny_base_model):
    body = {"run": adapter_run.id, "baseline": f"base:{tiny_base_model.id}", "max_new_tokens": 8, "seed": 4}
    created = api_for(lena).post("/api/v1/evaluations", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["run"] == adapter_run.id and data["overlap"] == 1 and data["locales"] == ["en-US"]
    assert data["generation_settings"] == {**DEFAULT_SETTINGS, "max_new_tokens": 8, "seed": 4}
    assert data["generation_job"]["status"] == "queued" and data["pairs"] == data["judgments"] == 0
    assert data["run_model"] == {"model": "round one", "version": f"run-{adapter_run.id}"}
    listed = api_for(lena).get("/api/v1/evaluations").json()
    assert [row["id"] for row in listed] == [data["id"]]
    assert api_for(lena).get(f"/api/v1/evaluations/{data['id']}").json() == json.loads(json.dumps(data))


def test_the_api_answers_field_errors(api_for, lena, adapter_run, tiny_base_model):
    missing = api_for(lena).post("/api/v1/evaluations", {"run": 999999, "baseline": "base:1"}, format="json")
    assert missing.status_code == 400 and "no run with id 999999" in missing.json()["run"][0]
    same = {"run": adapter_run.id, "baseline": f"run:{adapter_run.id}"}
    refused = api_for(lena).post("/api/v1/evaluations", same, format="json")
    assert refused.status_code == 400 and "baseline" in refused.json()
    assert api_for(lena).get("/api/v1/evaluations/999999").status_code == 404


def test_reviewers_cannot_start_or_read_evaluations(api_for, alice, adapter_run, tiny_base_model):
    body = {"run": adapter_run.id, "baseline": f"base:{tiny_base_model.id}"}
    assert api_for(alice).post("/api/v1/evaluations", body, format="json").status_code == 403
    assert api_for(alice).get("/api/v1/evaluations").status_code == 403


# --- the pages -----------------------------------------------------------------------------------------------------


def test_the_run_page_links_to_the_evaluate_form(client_for, lena, adapter_run):
    page = client_for(lena).get(reverse("training:run_detail", args=[adapter_run.id]))
    assert reverse("evaluation:evaluate_run", args=[adapter_run.id]).encode() in page.content
    assert b"Evaluate with reviewers" in page.content


def test_the_form_defaults_to_the_base_model_and_never_offers_the_run_itself(
    client_for, lena, adapter_run, tiny_base_model
):
    page = client_for(lena).get(reverse("evaluation:evaluate_run", args=[adapter_run.id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="base:{tiny_base_model.id}" selected>' in html
    assert f'value="run:{adapter_run.id}"' not in html


def test_the_form_creates_the_evaluation_and_shows_its_page(client_for, lena, adapter_run, tiny_base_model):
    form = {"baseline": f"base:{tiny_base_model.id}", "prompts": "test-split", "overlap": "1"}
    form |= {"samples": "1", "temperature": "0.8", "top_p": "0.95", "max_new_tokens": "8", "seed": "0"}
    response = client_for(lena).post(reverse("evaluation:evaluate_run", args=[adapter_run.id]), form)
    evaluation = EvaluationCampaign.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("evaluation:evaluation_detail", args=[evaluation.id])
    page = client_for(lena).get(response.url)
    assert page.status_code == 200 and evaluation.campaign.slug.encode() in page.content
    assert reverse("review_campaign", args=[evaluation.campaign.slug]).encode() in page.content


def test_the_form_shows_the_service_refusal(client_for, lena, adapter_run, tiny_base_model):
    form = {"baseline": "base:999999", "prompts": "test-split", "overlap": "1"}
    response = client_for(lena).post(reverse("evaluation:evaluate_run", args=[adapter_run.id]), form)
    assert response.status_code == 400 and b"no registered base model" in response.content
