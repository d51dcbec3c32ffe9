"""The demo's generated answers: made once, then left alone on every later start (on the tiny model here)."""

from __future__ import annotations

from django.core.management import call_command

from annotate.models import Campaign, Candidate
from annotate.services.demo import seed_demo
from training.models import GenerationJob


def test_the_demo_answers_are_generated_once(tiny_base_model, data_dir, monkeypatch, capsys):
    monkeypatch.setattr("training.tasks.generate_candidates.apply_async", lambda *a, **kw: None)
    seed_demo()
    call_command("seed_demo_model_answers", model="tiny")
    campaign = Campaign.objects.get(slug="demo-smollm2")
    made = Candidate.objects.filter(prompt__campaign=campaign).count()
    english = Campaign.objects.get(slug="demo-helpfulness").prompts.filter(locale__code="en-US").count()
    assert made > 0 and campaign.prompts.count() == english
    call_command("seed_demo_model_answers", model="tiny")
    assert "already generated" in capsys.readouterr().out
    assert GenerationJob.objects.count() == 1 and Candidate.objects.filter(prompt__campaign=campaign).count() == made


def test_without_the_model_the_demo_has_no_generated_answers(db, capsys):
    call_command("seed_demo_model_answers", model="smollm2-135m-instruct")
    assert "is not registered" in capsys.readouterr().out and not GenerationJob.objects.exists()
