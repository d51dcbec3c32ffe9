"""The exported files are usable as they are: by `datasets` + TRL's DPOTrainer, and by our engine's `load_pairs`."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotate.export_policy import ExportPolicy
from annotate.services.exporting import snapshot_create
from tests.factories import CampaignFactory, ComparisonFactory, JudgmentFactory, PromptFactory, UserFactory


def make_snapshot(settings, tmp_path, lena, *, with_chat: bool):
    settings.DATA_DIR = tmp_path / "data"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    campaign = CampaignFactory(overlap=2)
    reviewers = [UserFactory(role="reviewer") for _ in range(2)]
    messages = [{"role": "user", "content": "Say hi."}]
    for i in range(6):
        # Fixed texts: the split hashes the prompt, so this fixture's split must not depend on factory sequences.
        tags = {"scenario": "factual"} if i % 2 else {}
        prompt = PromptFactory(campaign=campaign, text=f"Fixed question {i}?", tags=tags)
        comparison = ComparisonFactory(prompt=prompt)
        for reviewer in reviewers:
            JudgmentFactory(comparison=comparison, reviewer=reviewer, outcome="a" if i != 5 else "tie")
    if with_chat:
        chat = ComparisonFactory(prompt=PromptFactory(campaign=campaign, text="", messages=messages))
        for reviewer in reviewers:
            JudgmentFactory(comparison=chat, reviewer=reviewer, outcome="b")
    return snapshot_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.3, seed=0), created_by=lena)


@pytest.fixture
def snapshot(settings, tmp_path, lena):
    return make_snapshot(settings, tmp_path, lena, with_chat=True)


def test_engine_load_pairs_reads_every_exported_file(snapshot):
    from training.engine import load_pairs

    folder = Path(snapshot.path)
    counts = snapshot.manifest["counts"]["per_split"]
    train, test = load_pairs(folder / "train.jsonl"), load_pairs(folder / "test.jsonl")
    ties = load_pairs(folder / "ties.jsonl")
    assert (len(train), len(test), len(ties)) == (counts["train"], counts["test"], counts["ties"])
    assert all(pair.is_tie for pair in ties) and not any(pair.is_tie for pair in train + test)
    assert all(pair.weight == 1.0 for pair in train + test)  # both reviewers agreed on every preference pair
    # One chat prompt makes every row conversational: TRL and `datasets` want one format per file.
    assert all(pair.conversational for pair in train + test + ties)
    assert snapshot.manifest["row_format"] == "conversational"


@pytest.mark.parametrize("with_chat", [False, True], ids=["standard", "conversational"])
def test_trl_dpo_trainer_trains_a_step_on_the_exported_train_file(settings, tmp_path, lena, tiny_model_dir, with_chat):
    import datasets
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    snapshot = make_snapshot(settings, tmp_path, lena, with_chat=with_chat)
    folder = Path(snapshot.path)
    train = datasets.load_dataset(
        "json", data_files=str(folder / "train.jsonl"), split="train", cache_dir=str(tmp_path / "hf-cache")
    )
    assert {"prompt", "chosen", "rejected", "meta"} <= set(train.column_names) and len(train) > 0
    assert isinstance(train[0]["prompt"], list) == with_chat
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = DPOConfig(
        output_dir=str(tmp_path / "dpo"),
        use_cpu=True,
        max_steps=1,
        per_device_train_batch_size=2,
        report_to=[],
        save_strategy="no",
        logging_steps=1,
        max_length=64,
    )
    trainer = DPOTrainer(model=model, args=config, train_dataset=train, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1
