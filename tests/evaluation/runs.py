"""Fixtures for evaluation campaigns: a judged campaign exported by the real exporter (so its snapshot has a test
split naming real prompts), the tiny model registered, and a succeeded run with a random LoRA adapter on it.

tests/evaluation/conftest.py imports the fixtures; other folders (e2e) call the functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.export_policy import ExportPolicy
from annotate.services.exporting import snapshot_create
from tests.factories import CampaignFactory, ComparisonFactory, JudgmentFactory, LocaleFactory, PromptFactory

PROMPTS = [f"Tell me about the {thing}." for thing in "cat dog bird fish apple river mountain moon sun tree".split()]


@pytest.fixture
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.DATA_DIR


def exported_snapshot():
    """A campaign of ten judged prompts exported with half of them (in expectation) in the test split."""
    campaign = CampaignFactory(slug="helpful", overlap=1, locales=[LocaleFactory(code="en-US")])
    for index, text in enumerate(PROMPTS):
        comparison = ComparisonFactory(prompt=PromptFactory(campaign=campaign, external_id=f"q{index}", text=text))
        JudgmentFactory(comparison=comparison, outcome="a")
    snapshot = snapshot_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.5, seed=1), created_by=None)
    assert 0 < snapshot.manifest["counts"]["per_split"]["test"] < len(PROMPTS)
    return snapshot


@pytest.fixture
def trained_snapshot(db, data_dir):
    return exported_snapshot()


@pytest.fixture
def tiny_base_model(db, settings, tiny_model_dir):
    from training.services.base_models import base_model_register

    settings.VERDICT_MODEL_DIRS = [Path(tiny_model_dir).resolve()]
    return base_model_register(name="tiny", path=tiny_model_dir)


def make_adapter_run(snapshot, base_model, folder: Path, *, name: str = "round one", seed: int = 0):
    """A succeeded run whose output folder holds a random LoRA adapter (so it answers unlike its base), made
    directly rather than trained, as tests/training/conftest.py's `adapter_run` does."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.factories import TrainingRunFactory
    from training.models import TrainingRun

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_model.path)
    lora = LoraConfig(r=4, lora_alpha=64, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(model, lora).save_pretrained(folder)
    return TrainingRunFactory(
        snapshot=snapshot,
        base_model=base_model,
        name=name,
        output_dir=str(folder),
        status=TrainingRun.Status.SUCCEEDED,
    )


@pytest.fixture
def adapter_run(trained_snapshot, tiny_base_model, tmp_path):
    return make_adapter_run(trained_snapshot, tiny_base_model, tmp_path / "adapter-run")
