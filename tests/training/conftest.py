"""Training fixtures: dataset snapshots written to disk like the exporter does, and the tiny model registered."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from annotate.models import DatasetSnapshot
from tests.factories import BaseModelFactory

WORDS = "the cat dog bird fish apple banana red blue green run walk read write good bad clear short long".split()


def _pairs(n: int, *, seed: int, locales=("en-US", "ja-JP")) -> list[dict]:
    rng = random.Random(seed)

    def text(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    rows = []
    for i in range(n):
        rows.append(
            {
                "prompt": text(6).capitalize() + "?",
                "chosen": "Yes, " + text(8) + ".",
                "rejected": "No " + text(5),
                "meta": {"locale": locales[i % len(locales)], "tags": {"scenario": "factual" if i % 3 else "creative"}},
            }
        )
    return rows


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


@pytest.fixture
def make_snapshot(db, tmp_path):
    """make_snapshot(train=24, test=8, ties=0) → a DatasetSnapshot whose folder holds the exporter's five files."""
    counter = iter(range(1, 1000))

    def make(*, train: int = 24, test: int = 8, ties: int = 0, folder: Path | None = None) -> DatasetSnapshot:
        version = next(counter) + DatasetSnapshot.objects.count()
        out = folder or tmp_path / f"snapshot-v{version}"
        out.mkdir(parents=True, exist_ok=True)
        _write_jsonl(out / "train.jsonl", _pairs(train, seed=version))
        _write_jsonl(out / "test.jsonl", _pairs(test, seed=1000 + version))
        _write_jsonl(out / "ties.jsonl", [{**row, "tie": True} for row in _pairs(ties, seed=2000 + version)])
        _write_jsonl(out / "excluded.jsonl", [])
        manifest = {"version": version, "counts": {"train": train, "test": test, "ties": ties}}
        (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return DatasetSnapshot.objects.create(
            version=version,
            path=str(out),
            manifest=manifest,
            manifest_sha256=hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest(),
        )

    return make


@pytest.fixture
def model_dirs(settings, tiny_model_dir):
    """VERDICT_MODEL_DIRS holding only the session's tiny model."""
    settings.VERDICT_MODEL_DIRS = [Path(tiny_model_dir).resolve()]
    return settings.VERDICT_MODEL_DIRS


@pytest.fixture
def tiny_base_model(db, model_dirs, tiny_model_dir):
    from training.services.base_models import base_model_register

    return base_model_register(name="tiny", path=tiny_model_dir)


@pytest.fixture
def data_dir(settings, tmp_path):
    """DATA_DIR in a temporary folder, so run outputs land there."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def unregistered_model(db):
    return BaseModelFactory()


@pytest.fixture
def adapter_run(make_snapshot, tiny_base_model, tmp_path):
    """A succeeded run whose output folder holds a LoRA adapter on the tiny model (random, so it answers unlike
    the base model), made directly rather than trained: tests of what uses an adapter need one, fast."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.factories import TrainingRunFactory
    from training.models import TrainingRun

    out = tmp_path / "adapter-run"
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_base_model.path)
    lora = LoraConfig(r=4, lora_alpha=64, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(model, lora).save_pretrained(out)
    return TrainingRunFactory(
        snapshot=make_snapshot(),
        base_model=tiny_base_model,
        name="round one",
        output_dir=str(out),
        status=TrainingRun.Status.SUCCEEDED,
    )
