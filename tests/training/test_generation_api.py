"""Generation jobs through the API and the pages: input checks naming the field, the job page and its card."""

from __future__ import annotations

import pytest

from tests.factories import CampaignFactory, LocaleFactory, PromptFactory
from training.models import GenerationJob
from training.services import generation

Status = GenerationJob.Status


@pytest.fixture(autouse=True)
def no_broker(monkeypatch, data_dir):
    monkeypatch.setattr("training.tasks.generate_candidates.apply_async", lambda *a, **kw: None)


@pytest.fixture
def source(db):
    campaign = CampaignFactory(slug="source", locales=[LocaleFactory(code="en-US")])
    PromptFactory(campaign=campaign, external_id="p1", text="the cat")
    return campaign


def body(base, **extra):
    return {
        "models": [f"base:{base.id}"],
        "source_campaign": "source",
        "target_campaign": "generated",
        "max_new_tokens": 4,
        **extra,
    }


def test_a_lead_creates_a_job_and_reads_it_back(api_for, lena, source, tiny_base_model):
    response = api_for(lena).post("/api/v1/generation-jobs", body(tiny_base_model, samples=3), format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "queued" and created["prompt_count"] == 1
    assert created["settings"] == {"samples": 3, "temperature": 0.8, "top_p": 0.95, "max_new_tokens": 4, "seed": 0}
    assert created["models"][0]["revision"] == tiny_base_model.revision
    got = api_for(lena).get(f"/api/v1/generation-jobs/{created['id']}").json()
    assert got["id"] == created["id"] and got["progress"]["sequences_total"] == 3


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"temperature": -0.5}, "temperature"),
        ({"samples": 0}, "samples"),
        ({"top_p": 2}, "top_p"),
        ({"models": []}, "models"),
        ({"models": ["base:424242"]}, "models"),
        ({"target_campaign": "Not a slug!"}, "target_campaign"),
        ({"source_campaign": ""}, "source_campaign"),
        ({"source_campaign": "missing"}, "source_campaign"),
        ({"pairs": "adjacent"}, "pairs"),
        ({"round_of": 424242}, "round_of"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_bad_input_gets_400_naming_the_field(api_for, lena, source, tiny_base_model, extra, field):
    response = api_for(lena).post("/api/v1/generation-jobs", body(tiny_base_model, **extra), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors and all(isinstance(m, str) for m in errors[field]), errors
    assert not GenerationJob.objects.exists()


def test_a_prompts_file_can_be_uploaded(api_for, lena, source, tiny_base_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("prompts.jsonl", b'{"id": "u1", "locale": "en-US", "prompt": "hi"}\n')
    data = {**body(tiny_base_model, source_campaign=""), "prompts_file": upload}
    response = api_for(lena).post("/api/v1/generation-jobs", data, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["source"] == {"kind": "upload", "locale": "", "as_chat": True}


def test_a_reviewer_cannot_create_jobs(api_for, alice, source, tiny_base_model):
    response = api_for(alice).post("/api/v1/generation-jobs", body(tiny_base_model), format="json")
    assert response.status_code == 403


def test_cancel_through_the_api(api_for, lena, source, tiny_base_model):
    job_id = api_for(lena).post("/api/v1/generation-jobs", body(tiny_base_model), format="json").json()["id"]
    assert api_for(lena).post(f"/api/v1/generation-jobs/{job_id}/cancel").json()["status"] == "cancelled"
    again = api_for(lena).post(f"/api/v1/generation-jobs/{job_id}/cancel")
    assert again.status_code == 409 and "only a queued or running job" in again.json()["status"][0]


def test_the_generate_page_creates_a_job_and_shows_errors_by_field(client_for, lena, source, tiny_base_model):
    client = client_for(lena)
    page = client.get("/training/generate")
    assert page.status_code == 200 and f'value="base:{tiny_base_model.id}"' in page.content.decode()
    refused = client.post("/training/generate", {**body(tiny_base_model), "temperature": "-1"})
    assert refused.status_code == 400 and "temperature: Ensure this value is greater than or equal to 0" in (
        refused.content.decode()
    )
    created = client.post("/training/generate", body(tiny_base_model))
    job = GenerationJob.objects.get()
    assert created.status_code == 302 and created.url == f"/training/generation/{job.id}/"
    assert "generation-progress" in client.get(created.url).content.decode()


def test_the_progress_card_polls_until_the_job_ends(client_for, lena, source, tiny_base_model):
    job = generation.generation_job_create(
        models=[f"base:{tiny_base_model.id}"],
        source_campaign="source",
        target_campaign="generated",
        settings_values={"max_new_tokens": 3},
        requested_by=lena,
    )
    client = client_for(lena)
    url = f"/training/generation/{job.id}/progress"
    polling = client.get(url, HTTP_HX_REQUEST="true")
    assert polling.status_code == 200 and "hx-trigger" in polling.content.decode()
    generation.generation_job_execute(job_id=job.id)
    done = client.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and "hx-trigger" not in done.content.decode()
    assert "new pairs" in done.content.decode() or "new candidates" in done.content.decode()


def test_next_round_prefills_the_form_and_the_run_page_shows_the_chain(client_for, lena, adapter_run, source):
    adapter_run.snapshot.campaigns.add(source)
    client = client_for(lena)
    form = client.get(f"/training/generate?round_of={adapter_run.id}").content.decode()
    assert 'value="source-round-2"' in form and f'name="round_of" value="{adapter_run.id}"' in form
    assert f'value="run:{adapter_run.id}" checked' in form
    job = generation.generation_job_create(
        models=[f"run:{adapter_run.id}"],
        round_of=adapter_run.id,
        target_campaign="source-round-2",
        settings_values={"max_new_tokens": 3},
        requested_by=lena,
    )
    generation.generation_job_execute(job_id=job.id)
    page = client.get(f"/training/runs/{adapter_run.id}/").content.decode()
    chain = page[page.index('id="lineage-chain"') : page.index("</ol>", page.index('id="lineage-chain"'))]
    for step in (
        "source",
        f"v{adapter_run.snapshot.version}",
        f"Run #{adapter_run.id}",
        f"#{job.id}",
        "source-round-2",
    ):
        assert step in chain
    assert "Next round" in page
