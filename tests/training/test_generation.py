"""Generation jobs in the worker process: candidates from pinned models imported as pairs, all or nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from annotate.models import Campaign, Candidate, Comparison
from tests.factories import CampaignFactory, LocaleFactory, PromptFactory
from training.models import GenerationJob
from training.services import generation
from training.services.jobs import ProgressWriter

Status = GenerationJob.Status
SETTINGS = {"samples": 2, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 6, "seed": 7}


@pytest.fixture(autouse=True)
def no_broker(monkeypatch, data_dir):
    """Jobs are executed in-process here; the task is never sent."""
    monkeypatch.setattr("training.tasks.generate_candidates.apply_async", lambda *a, **kw: None)


@pytest.fixture
def source(db):
    english, japanese = LocaleFactory(code="en-US"), LocaleFactory(code="ja-JP")
    campaign = CampaignFactory(slug="source", locales=[english, japanese])
    for i in range(3):
        PromptFactory(campaign=campaign, external_id=f"en-{i}", locale=english, text=f"the cat {i}")
    PromptFactory(campaign=campaign, external_id="ja-0", locale=japanese, text="the dog", tags={"scenario": "creative"})
    return campaign


def create(models, lena, **options):
    values = {"source_campaign": "source", "target_campaign": "generated", "settings_values": SETTINGS, **options}
    return generation.generation_job_create(models=models, requested_by=lena, **values)


def test_a_job_fills_a_new_campaign_with_each_models_answers_paired_across_models(
    source, tiny_base_model, adapter_run, lena
):
    job = create([f"base:{tiny_base_model.id}", f"run:{adapter_run.id}"], lena, locale="en-US")
    assert (job.prompt_count, job.sequences_total) == (3, 12)
    assert generation.generation_job_execute(job_id=job.id) == Status.SUCCEEDED
    job.refresh_from_db()
    campaign = Campaign.objects.get(slug="generated")
    assert job.target_campaign == campaign and job.sequences_done == 12 and job.percent == 100
    candidates = Candidate.objects.filter(prompt__campaign=campaign)
    assert {c.model_name for c in candidates} == {"tiny", "round one"}
    from_run = candidates.filter(model_name="round one").first()
    assert from_run.model_version == f"run-{adapter_run.id}" and from_run.meta["run_id"] == adapter_run.id
    from_base = candidates.filter(model_name="tiny").first()
    assert from_base.model_version.startswith("sha256:") and from_base.meta["temperature"] == 1.0
    pairs = Comparison.objects.filter(campaign=campaign).select_related("candidate_a", "candidate_b")
    assert pairs and all(p.candidate_a.model_name != p.candidate_b.model_name for p in pairs)
    assert job.result["comparisons_created"] == pairs.count()
    assert set(campaign.prompts.values_list("external_id", flat=True)) == {"en-0", "en-1", "en-2"}


def test_running_the_same_job_again_adds_nothing(source, tiny_base_model, adapter_run, lena):
    models = [f"base:{tiny_base_model.id}", f"run:{adapter_run.id}"]
    first = create(models, lena, tag="scenario=creative")
    generation.generation_job_execute(job_id=first.id)
    before = (Candidate.objects.count(), Comparison.objects.count())
    assert generation.generation_job_execute(job_id=first.id) is None  # a second delivery claims nothing
    again = create(models, lena, tag="scenario=creative")
    assert generation.generation_job_execute(job_id=again.id) == Status.SUCCEEDED
    again.refresh_from_db()
    assert (Candidate.objects.count(), Comparison.objects.count()) == before
    assert again.result == {"prompts_created": 0, "candidates_created": 0, "comparisons_created": 0}


def test_a_failure_is_kept_with_its_message_and_writes_nothing(source, tiny_base_model, lena, tmp_path, settings):
    copy = tmp_path / "models" / "copy"
    shutil.copytree(tiny_base_model.path, copy)
    settings.VERDICT_MODEL_DIRS = [*settings.VERDICT_MODEL_DIRS, tmp_path / "models"]
    from training.services.base_models import base_model_register

    model = base_model_register(name="copy", path=str(copy))
    job = create([f"base:{model.id}"], lena)
    (copy / "config.json").write_text("{}", encoding="utf-8")  # the folder changed after the job pinned it
    assert generation.generation_job_execute(job_id=job.id) == Status.FAILED
    job.refresh_from_db()
    assert job.status == Status.FAILED and "changed since the job was created" in job.error
    assert not Campaign.objects.filter(slug="generated").exists()


def test_a_queued_job_is_cancelled_at_once_and_a_running_one_stops_after_a_batch(
    source, tiny_base_model, lena, monkeypatch
):
    queued = create([f"base:{tiny_base_model.id}"], lena)
    assert generation.generation_job_cancel(job_id=queued.id).status == Status.CANCELLED
    assert generation.generation_job_execute(job_id=queued.id) is None

    running = create([f"base:{tiny_base_model.id}"], lena)
    monkeypatch.setattr(generation, "BATCH_SIZE", 2)
    original = ProgressWriter.__call__

    def cancel_then_report(self, done, total):
        generation.generation_job_cancel(job_id=self.job_id)
        original(self, done, total)

    monkeypatch.setattr(ProgressWriter, "__call__", cancel_then_report)
    assert generation.generation_job_execute(job_id=running.id) == Status.CANCELLED
    running.refresh_from_db()
    assert running.status == Status.CANCELLED and running.sequences_done == 2
    assert not Campaign.objects.filter(slug="generated").exists()


def test_uploaded_prompts_take_the_default_locale(source, tiny_base_model, lena):
    upload = b'{"id": "u1", "prompt": "the bird"}\n{"id": "u2", "messages": [{"role": "user", "content": "hi"}]}\n'
    job = create([f"base:{tiny_base_model.id}"], lena, source_campaign="", prompts_file=upload, locale="ja-JP")
    assert generation.generation_job_execute(job_id=job.id) == Status.SUCCEEDED
    prompts = Campaign.objects.get(slug="generated").prompts.order_by("external_id")
    assert [(p.external_id, p.locale.code) for p in prompts] == [("u1", "ja-JP"), ("u2", "ja-JP")]
    assert prompts[1].messages == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"models": ["base:999"]}, "models", "no registered base model with id 999"),
        ({"models": ["gpt:1"]}, "models", "expected base:ID"),
        ({"settings_values": {**SETTINGS, "temperature": -1}}, "temperature", "must be 0 (greedy) or more"),
        ({"settings_values": {**SETTINGS, "samples": 0}}, "samples", "must be at least 1"),
        ({"target_campaign": "Not A Slug"}, "target_campaign", "campaign slug"),
        ({"source_campaign": "nope"}, "source_campaign", "no campaign 'nope'"),
        ({"tag": "scenario=nothing"}, "prompts", "no prompts match"),
        ({"source_campaign": "", "prompts_file": b"{not json\n"}, "prompts_file", "line 1: json"),
        ({"source_campaign": "", "prompts_file": b'{"id": "x", "prompt": "hi"}\n'}, "locale", "names no locale"),
    ],
)
def test_bad_input_is_refused_naming_the_field(source, tiny_base_model, lena, options, field, message):
    values = {"models": [f"base:{tiny_base_model.id}"], **options}
    with pytest.raises(generation.GenerationRejected) as refused:
        create(values.pop("models"), lena, **values)
    assert field in refused.value.errors
    assert any(message in m for m in refused.value.errors[field]), refused.value.errors
    assert not GenerationJob.objects.exists()


def test_an_unfinished_run_has_no_adapter_to_generate_from(source, make_snapshot, tiny_base_model, lena):
    from tests.factories import TrainingRunFactory

    running = TrainingRunFactory(snapshot=make_snapshot(), base_model=tiny_base_model, status="running")
    with pytest.raises(generation.GenerationRejected) as refused:
        create([f"run:{running.id}"], lena)
    assert "no succeeded run" in refused.value.errors["models"][0]


def test_the_next_round_uses_only_prompts_its_snapshot_never_used(source, adapter_run, lena):
    snapshot = adapter_run.snapshot
    snapshot.campaigns.add(source)
    used = {"prompt": "x", "chosen": "a", "rejected": "b", "meta": {"campaign": "source", "prompt_id": "en-0"}}
    with open(f"{snapshot.path}/train.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(used) + "\n")
    defaults = generation.next_round_defaults(run=adapter_run)
    assert defaults["target_campaign"] == "source-round-2"
    assert defaults["models"] == [f"run:{adapter_run.id}", f"base:{adapter_run.base_model_id}"]
    job = generation.generation_job_create(
        models=defaults["models"],
        round_of=adapter_run.id,
        target_campaign=defaults["target_campaign"],
        settings_values=SETTINGS,
        requested_by=lena,
    )
    assert job.source_run == adapter_run and job.source["kind"] == "unused"
    rows = [json.loads(line) for line in open(job.prompts_file, encoding="utf-8")]
    assert sorted(row["id"] for row in rows) == ["en-1", "en-2", "ja-0"]


def test_a_chat_model_gets_a_plain_text_prompt_as_a_user_message(source, tiny_base_model, lena):
    job = create([f"base:{tiny_base_model.id}"], lena, locale="ja-JP")
    assert job.source["as_chat"] is True
    generation.generation_job_execute(job_id=job.id)
    prompt = Campaign.objects.get(slug="generated").prompts.get()
    assert prompt.messages == [{"role": "user", "content": "the dog"}] and prompt.text == ""
    into_source = create([f"base:{tiny_base_model.id}"], lena, locale="ja-JP", target_campaign="source")
    assert "as_chat" not in into_source.source


def test_a_running_job_whose_worker_went_silent_is_failed_as_lost(source, tiny_base_model, lena, settings):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import TrainingWorkerFactory

    now = timezone.now()
    old = now - timedelta(seconds=settings.TRAINING_STALE_AFTER_S + 5)
    TrainingWorkerFactory(name="training@alive", last_seen_at=now)
    TrainingWorkerFactory(name="training@dead", last_seen_at=old)
    jobs = [create([f"base:{tiny_base_model.id}"], lena) for _ in range(3)]
    for job, worker, started in zip(
        jobs, ("training@alive", "training@dead", "training@dead"), (old, old, now), strict=True
    ):
        GenerationJob.objects.filter(id=job.id).update(status=Status.RUNNING, worker=worker, started_at=started)
    assert generation.generation_jobs_mark_lost(now=now) == 1
    statuses = [GenerationJob.objects.get(id=job.id) for job in jobs]
    assert [job.status for job in statuses] == [Status.RUNNING, Status.FAILED, Status.RUNNING]
    assert statuses[1].error.startswith("worker lost: training@dead stopped beating")
