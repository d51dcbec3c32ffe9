"""Synthetic preference data for engine tests: a rule a tiny model can learn from a few hundred pairs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from training.engine import EngineConfig, PreferencePair

# Single-token words of the tiny tokenizer (with a leading space), so both completions of a pair have equal length.
ANIMALS = ["bird", "bear", "tree", "table", "black"]
ACTIONS = ["swim", "speak", "sentence", "each", "bad"]
NEUTRAL = ["so", "no", "be", "do", "may"]
FILLER = ["a", "an", "or"]


def pytest_collection_modifyitems(items) -> None:
    """`@pytest.mark.gpu` tests run only where torch sees a CUDA device; elsewhere they are skipped, not failed."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """These models are tiny: on a shared two-core machine a second intra-op thread only adds contention."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def rule_pairs(n: int, *, seed: int, conversational: bool = False) -> list[PreferencePair]:
    """The prompt names a word list; the chosen answer uses words from it, the rejected one from the other list.

    The reference model ignores the instruction, so its accuracy is about 0.5; the policy must read the prompt.
    """
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        wanted, other = (ANIMALS, ACTIONS) if i % 2 == 0 else (ACTIONS, ANIMALS)
        key = "bird" if wanted is ANIMALS else "swim"
        prompt = f"{key}: " + " ".join(rng.choices(FILLER, k=3))
        chosen = " " + " ".join(rng.sample(wanted, 3))
        rejected = " " + " ".join(rng.sample(other, 3))
        meta = {"locale": "en-US" if i % 3 else "de-DE", "tags": ["animals" if wanted is ANIMALS else "actions"]}
        if conversational:
            pairs.append(
                PreferencePair(
                    prompt=[{"role": "user", "content": prompt}],
                    chosen=[{"role": "assistant", "content": chosen.strip()}],
                    rejected=[{"role": "assistant", "content": rejected.strip()}],
                    meta=meta,
                )
            )
        else:
            pairs.append(PreferencePair(prompt=prompt, chosen=chosen, rejected=rejected, meta=meta))
    return pairs


def tie_pairs(n: int, *, seed: int) -> list[PreferencePair]:
    """Ties: an answer from the list the prompt names against one from a neutral list, in either order."""
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        wanted, key = (ANIMALS, "bird") if i % 2 == 0 else (ACTIONS, "swim")
        first = " " + " ".join(rng.sample(wanted, 3))
        second = " " + " ".join(rng.sample(NEUTRAL, 3))
        if rng.random() < 0.5:
            first, second = second, first
        prompt = f"{key}: " + " ".join(rng.choices(FILLER, k=3))
        pairs.append(PreferencePair(prompt=prompt, chosen=first, rejected=second, is_tie=True))
    return pairs


def write_jsonl(path: Path, pairs: list[PreferencePair]) -> Path:
    path.write_text("".join(json.dumps(p.to_json()) + "\n" for p in pairs), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tiny_model_dir, tmp_path):
    """EngineConfig for the tiny model with fast settings; keyword arguments override them."""

    def build(**overrides) -> EngineConfig:
        settings = dict(
            model_dir=tiny_model_dir,
            output_dir=str(tmp_path / "out"),
            learning_rate=3e-3,
            batch_size=8,
            lora_r=8,
            lora_alpha=16,
            warmup_ratio=0.0,
            num_samples=2,
            sample_max_new_tokens=6,
            ref_cache_dir=str(tmp_path / "ref-cache"),
        )
        settings.update(overrides)
        return EngineConfig.from_dict(settings)

    return build
