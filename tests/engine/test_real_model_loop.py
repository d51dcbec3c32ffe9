"""The model-in-the-loop round trip on the real model, through the engine's command line as a user runs it:
sample several answers per prompt, turn them into preference pairs by a rule, train a LoRA adapter on the pairs,
then answer held-out prompts greedily with and without the adapter. The rule must be one the model's own samples
can express: "the shorter answer wins" (SmolLM2's samples to one prompt vary a lot in length), not a phrase it never
writes, which would give DPO nothing to learn from. Marked real_model: skipped without the wheel, run once per CI
run."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from training.engine.cli import main

pytestmark = [pytest.mark.real_model, pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]

# Short questions: SmolLM2 answers them in a few words one time and rambles the next, so its samples disagree on
# length (open-ended prompts such as "Describe the ocean." run to any max_new_tokens in every sample).
TRAIN_PROMPTS = [
    "What is 2 + 2?",
    "Name a fruit.",
    "What colour is grass?",
    "What is the capital of Italy?",
    "How many legs does a spider have?",
    "What do bees make?",
    "Which animal says moo?",
    "What is frozen water called?",
    "Name a planet.",
    "What is the opposite of hot?",
    "How many days are in a week?",
    "What shape is a ball?",
    "Who wrote Hamlet?",
    "What do cows drink?",
    "Name a colour.",
    "What is the largest ocean?",
]
HELD_OUT_PROMPTS = [
    "What is 3 + 5?",
    "Name a vegetable.",
    "What colour is the sky?",
    "What is the capital of Spain?",
    "How many wheels does a car have?",
    "What do cats chase?",
    "Which animal barks?",
    "What is the boiling point of water?",
]
# Sampled pairs count only where the lengths clearly differ: a pair of near-equal answers teaches noise.
MIN_TOKEN_GAP = 8


def _write_prompts(path: Path, prompts: list[str], prefix: str) -> Path:
    rows = [
        {"id": f"{prefix}-{i}", "locale": "en-US", "messages": [{"role": "user", "content": text}]}
        for i, text in enumerate(prompts)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def shorter_wins_pairs(rows: list[dict], *, min_gap: int) -> list[dict]:
    """TRL conversational pairs from generated rows: of every two samples to a prompt whose token counts differ by
    at least `min_gap`, the shorter is chosen."""
    pairs = []
    for row in rows:
        for a, b in itertools.combinations(row["candidates"], 2):
            if abs(a["meta"]["tokens"] - b["meta"]["tokens"]) < min_gap:
                continue
            short, long = sorted((a, b), key=lambda candidate: candidate["meta"]["tokens"])
            pairs.append(
                {
                    "prompt": row["messages"],
                    "chosen": [{"role": "assistant", "content": short["text"]}],
                    "rejected": [{"role": "assistant", "content": long["text"]}],
                }
            )
    return pairs


def _greedy_tokens(model: str, prompts: Path, out: Path, *extra: str) -> list[int]:
    flags = ["--samples", "1", "--temperature", "0", "--max-new-tokens", "64", "--device", "cpu"]
    assert main(["generate", "--model", model, "--prompts", str(prompts), "--out", str(out), *flags, *extra]) == 0
    return [row["candidates"][0]["meta"]["tokens"] for row in _read_rows(out)]


def test_pairs_by_the_shorter_answer_teach_the_adapter_to_answer_shorter(smollm2_dir, tmp_path):
    train_prompts = _write_prompts(tmp_path / "train-prompts.jsonl", TRAIN_PROMPTS, "train")
    held_out = _write_prompts(tmp_path / "held-out.jsonl", HELD_OUT_PROMPTS, "held-out")

    samples = tmp_path / "samples.jsonl"
    sampling = ["--samples", "4", "--temperature", "0.8", "--max-new-tokens", "40", "--seed", "0", "--device", "cpu"]
    assert (
        main(["generate", "--model", smollm2_dir, "--prompts", str(train_prompts), "--out", str(samples), *sampling])
        == 0
    )
    pairs = shorter_wins_pairs(_read_rows(samples), min_gap=MIN_TOKEN_GAP)
    assert len(pairs) >= 32  # the samples do disagree on length: there is something to learn
    train_file = tmp_path / "pairs.jsonl"
    train_file.write_text("".join(json.dumps(pair) + "\n" for pair in pairs), encoding="utf-8")

    adapter = tmp_path / "adapter"
    # A learning rate high enough to move a rank-8 adapter in 8 steps (32 pairs, about one epoch).
    train = ["train", "--model", smollm2_dir, "--out", str(adapter), "--train", str(train_file), "--no-progress",
             "--lr", "2e-3", "--max-steps", "8", "--batch-size", "4", "--max-length", "96", "--lora-r", "8",
             "--lora-alpha", "16", "--warmup-ratio", "0", "--num-samples", "0", "--seed", "0", "--device", "cpu",
             "--ref-cache-dir", str(tmp_path / "ref-cache")]  # fmt: skip
    assert main(train) == 0

    base = _greedy_tokens(smollm2_dir, held_out, tmp_path / "base.jsonl")
    tuned = _greedy_tokens(smollm2_dir, held_out, tmp_path / "tuned.jsonl", "--adapter", str(adapter))
    print(f"held-out greedy tokens: base {base}, adapter {tuned}, pairs {len(pairs)}")
    assert sum(tuned) / sum(base) < 0.5  # measured: 0.14 (371 tokens to 51)
    assert sum(t < b for t, b in zip(tuned, base, strict=True)) >= 6  # most prompts, not one outlier
    # It follows the rule, not the spirit: the short answers are often wrong or echo the question ("What do cats
    # chase."). Reward hacking a reviewer would catch, which is what evaluating a trained model is for.
