"""The engine against TRL 1.16's DPOTrainer on the tiny local model: same tokens, log-probs, losses and training run.

TRL is a test-only dependency. Both sides load the same base model in fp32 on CPU with the same LoRA settings.
"""

from __future__ import annotations

import math

import pytest
import torch

from training.engine.config import EngineConfig
from training.engine.data import PreferencePair, collate, tokenize_pair
from training.engine.losses import LABEL_SMOOTHING_LOSS_TYPES, TRL_LOSS_TYPES
from training.engine.model import load_policy, sequence_logps
from training.engine.objective import Objective, weighted_mean

trl = pytest.importorskip("trl")

# transformers 5 deprecation notices raised from inside TRL and peft, not from the engine.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]

MAX_LENGTH = 40
LORA = dict(lora_r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear")
SEED = 7

STANDARD_ROWS = [
    {"prompt": "Q: what is red?", "chosen": " A: apple, cherry.", "rejected": " A: the sky is blue and green"},
    {"prompt": "Which fruit is yellow", "chosen": " lemon and banana", "rejected": " grape"},
    {"prompt": "Hello", "chosen": " hello there, thank you", "rejected": " no"},
    # Long enough to be cut at MAX_LENGTH (keep_start): the truncated completion tokens must match too.
    {
        "prompt": "Tell me every word you know about the garden",
        "chosen": " tree river mountain city road field garden window door table chair book paper letter word"
        " sentence house apple banana cherry grape lemon mango orange peach pear plum",
        "rejected": " no",
    },
]
# The third prompt alone is longer than MAX_LENGTH: TRL drops it, and so must the engine.
CONVERSATIONAL_ROWS = [
    {
        "prompt": [{"role": "user", "content": "What colour is a lemon?"}],
        "chosen": [{"role": "assistant", "content": "Yellow."}],
        "rejected": [{"role": "assistant", "content": "Purple, like a plum."}],
    },
    {
        "prompt": [
            {"role": "system", "content": "Be short."},
            {"role": "user", "content": "Name a pet."},
        ],
        "chosen": [{"role": "assistant", "content": "A cat."}],
        "rejected": [{"role": "assistant", "content": "The tiger, the lion and the bear."}],
    },
    {
        "prompt": [{"role": "user", "content": " ".join(["apple banana cherry"] * 12)}],
        "chosen": [{"role": "assistant", "content": "Fruit."}],
        "rejected": [{"role": "assistant", "content": "No."}],
    },
]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The tiny model's matmuls are microseconds: on two shared cores, intra-op threads only spin (10x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pairs(rows: list[dict]) -> list[PreferencePair]:
    return [PreferencePair(prompt=r["prompt"], chosen=r["chosen"], rejected=r["rejected"]) for r in rows]


def _engine_config(model_dir, output_dir, **overrides) -> EngineConfig:
    settings = dict(
        model_dir=str(model_dir),
        output_dir=str(output_dir),
        beta=0.1,
        max_length=MAX_LENGTH,
        seed=SEED,
        device="cpu",
        num_samples=0,
        **LORA,
    )
    return EngineConfig(**(settings | overrides))


def _trl_trainer(model_dir, output_dir, rows, **overrides):
    """TRL's DPOTrainer on the base model with a fresh LoRA adapter (its reference: the adapter disabled)."""
    from datasets import Dataset, disable_progress_bars
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    disable_progress_bars()
    settings = dict(
        output_dir=str(output_dir),
        use_cpu=True,
        bf16=False,  # DPOConfig defaults to bf16 autocast, on CPU too; the engine runs fp32 on CPU
        beta=0.1,
        max_length=MAX_LENGTH,
        per_device_train_batch_size=len(rows),
        seed=SEED,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        logging_steps=1,
        dataloader_num_workers=0,
    )
    args = DPOConfig(**(settings | overrides))
    lora = LoraConfig(
        r=LORA["lora_r"],
        lora_alpha=LORA["lora_alpha"],
        lora_dropout=LORA["lora_dropout"],
        target_modules=LORA["target_modules"],
        bias="none",
        task_type="CAUSAL_LM",
    )
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return DPOTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=lora,
    )


def _trl_batch(trainer) -> dict[str, torch.Tensor]:
    dataset = trainer.train_dataset
    return trainer.data_collator([dataset[i] for i in range(len(dataset))])


def _engine_batch(rows, tokenizer) -> tuple[dict[str, torch.Tensor], list[int]]:
    """Our collated batch and the positions of the rows kept (the others were too long to learn from)."""
    kept, items = [], []
    for position, pair in enumerate(_pairs(rows)):
        item = tokenize_pair(pair, tokenizer, max_length=MAX_LENGTH, truncation_mode="keep_start")
        if item is not None:
            kept.append(position)
            items.append(item)
    return collate(items, tokenizer.pad_token_id), kept


def _perturb_adapters(trl_model, engine_model) -> None:
    """Give both policies the same non-zero LoRA weights, so the policy differs from the reference."""
    generator = torch.Generator().manual_seed(SEED)
    engine_params = dict(engine_model.named_parameters())
    with torch.no_grad():
        for name, param in trl_model.named_parameters():
            if "lora_" in name:
                param.copy_(0.2 * torch.randn(param.shape, generator=generator))
                engine_params[name].copy_(param)


def _trl_sequence_logps(trainer, batch, *, reference: bool) -> torch.Tensor:
    """TRL's summed completion log-probs (2B,): its reference pass, or the same computation with the adapter on."""
    if reference:
        chosen, rejected = trainer.compute_ref_log_probs(trainer.model, batch)
        return torch.cat([chosen, rejected])
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
    with torch.no_grad():
        outputs = trainer.model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels, fused_lm_head=True
        )
    return outputs.log_probs.sum(dim=1)


def _trl_loss(trainer, batch, *, loss_types, loss_weights=None, label_smoothing=0.0) -> float:
    trainer.loss_types = list(loss_types)
    trainer.loss_weights = list(loss_weights or [1.0] * len(loss_types))
    trainer.label_smoothing = label_smoothing
    with torch.no_grad():
        return float(trainer._compute_loss(trainer.model, batch, return_outputs=False))


def _engine_loss(model, batch, *, loss_types, loss_weights=None, label_smoothing=0.0) -> float:
    """The loop's objective: summed log-probs, reference with the adapter disabled, weighted mean over pairs."""
    objective = Objective(
        loss_types=list(loss_types),
        loss_weights=list(loss_weights or [1.0] * len(loss_types)),
        beta=0.1,
        label_smoothing=label_smoothing,
        tie_strength=None,
        discopop_tau=0.05,
    )
    half = batch["weight"].numel()
    with torch.no_grad():
        logps, counts, mean_nll = sequence_logps(model, batch)
        with model.disable_adapter():
            ref, _, _ = sequence_logps(model, batch)
        per_pair = objective.per_pair(
            logps[:half],
            logps[half:],
            ref[:half],
            ref[half:],
            chosen_lengths=counts[:half],
            rejected_lengths=counts[half:],
            is_tie=batch["is_tie"],
            sft_nll=mean_nll,
        )
        return float(weighted_mean(per_pair, batch["weight"]))


@pytest.fixture(scope="module")
def standard(tiny_model_dir, tmp_path_factory):
    """TRL's trainer and the engine's policy on the standard rows, sharing one non-zero LoRA adapter."""
    trainer = _trl_trainer(tiny_model_dir, tmp_path_factory.mktemp("trl-standard"), STANDARD_ROWS)
    config = _engine_config(tiny_model_dir, tmp_path_factory.mktemp("engine-standard"))
    model, tokenizer = load_policy(str(tiny_model_dir), config)
    fresh_trl_batch = _trl_batch(trainer)
    engine_batch, _ = _engine_batch(STANDARD_ROWS, tokenizer)
    step0 = {
        "trl": _trl_loss(trainer, fresh_trl_batch, loss_types=["sigmoid"]),
        "engine": _engine_loss(model, engine_batch, loss_types=["sigmoid"]),
    }
    _perturb_adapters(trainer.model, model)
    return {
        "trainer": trainer,
        "model": model,
        "tokenizer": tokenizer,
        "trl_batch": fresh_trl_batch,
        "engine_batch": engine_batch,
        "step0": step0,
    }


@pytest.mark.parametrize("rows", [STANDARD_ROWS, CONVERSATIONAL_ROWS], ids=["standard", "conversational"])
def test_token_ids_and_masks_match_trl(rows, tiny_model_dir, tmp_path):
    trainer = _trl_trainer(tiny_model_dir, tmp_path, rows)
    trl_batch = _trl_batch(trainer)
    engine_batch, kept = _engine_batch(rows, trainer.processing_class)

    assert len(kept) == len(trainer.train_dataset)  # the same rows dropped as too long
    if rows is CONVERSATIONAL_ROWS:
        assert kept == [0, 1]
    for key in ("input_ids", "attention_mask", "completion_mask"):
        assert torch.equal(engine_batch[key], trl_batch[key]), key


def test_fresh_adapter_gives_ln2_step0_loss_like_trl(standard):
    assert standard["step0"]["trl"] == pytest.approx(math.log(2), abs=1e-6)
    assert standard["step0"]["engine"] == pytest.approx(math.log(2), abs=1e-6)


@pytest.mark.parametrize("reference", [True, False], ids=["reference", "policy"])
def test_summed_logps_match_trl_per_example(standard, reference):
    model, batch = standard["model"], standard["engine_batch"]
    trl_logps = _trl_sequence_logps(standard["trainer"], standard["trl_batch"], reference=reference)
    with torch.no_grad():
        if reference:
            with model.disable_adapter():
                engine_logps, _, _ = sequence_logps(model, batch)
        else:
            engine_logps, _, _ = sequence_logps(model, batch)
    torch.testing.assert_close(engine_logps, trl_logps, rtol=0, atol=1e-4)


@pytest.mark.parametrize("loss_type", TRL_LOSS_TYPES)
def test_each_loss_type_gives_trl_batch_loss(standard, loss_type):
    smoothing = 0.1 if loss_type in LABEL_SMOOTHING_LOSS_TYPES else 0.0
    theirs = _trl_loss(standard["trainer"], standard["trl_batch"], loss_types=[loss_type], label_smoothing=smoothing)
    ours = _engine_loss(standard["model"], standard["engine_batch"], loss_types=[loss_type], label_smoothing=smoothing)
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-5)


def test_weighted_sigmoid_plus_sft_gives_trl_batch_loss(standard):
    options = dict(loss_types=["sigmoid", "sft"], loss_weights=[1.0, 0.5])
    theirs = _trl_loss(standard["trainer"], standard["trl_batch"], **options)
    ours = _engine_loss(standard["model"], standard["engine_batch"], **options)
    assert ours == pytest.approx(theirs, rel=1e-5, abs=1e-5)


class _LossRecorder:
    """A Reporter that keeps each step's loss."""

    def __init__(self):
        self.losses: list[float] = []

    def start(self, total_steps: int) -> None:
        pass

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.losses.append(metrics["loss"])

    def should_stop(self) -> bool:
        return False

    def checkpoint(self, step: int, path: str) -> None:
        pass


def test_ten_training_steps_track_trl(tiny_model_dir, tmp_path):
    from training.engine.loop import train_dpo

    steps, learning_rate = 10, 1e-2
    # One batch holds every pair, so both runs see the same data each step whatever order their samplers pick.
    # No warmup: the engine's warmup ramp starts above zero where the transformers ramp starts at zero.
    trainer = _trl_trainer(
        tiny_model_dir,
        tmp_path / "trl",
        STANDARD_ROWS,
        max_steps=steps,
        learning_rate=learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
    )  # TRL's default optimizer, fused AdamW: 2e-7 from the engine's plain torch AdamW over these ten steps
    engine_adapter = load_policy(str(tiny_model_dir), _engine_config(tiny_model_dir, tmp_path / "probe"))[0]
    trl_adapter = {name: p for name, p in trainer.model.named_parameters() if "lora_" in name}
    for name, param in engine_adapter.named_parameters():
        if "lora_" in name:
            assert torch.equal(param, trl_adapter[name]), f"LoRA init differs at {name}"

    trainer.train()
    trl_losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]

    config = _engine_config(
        tiny_model_dir,
        tmp_path / "engine",
        batch_size=len(STANDARD_ROWS),
        max_steps=steps,
        learning_rate=learning_rate,
        lr_scheduler="cosine",
        warmup_ratio=0.0,
        weight_decay=0.0,
        max_grad_norm=1.0,
    )
    recorder = _LossRecorder()
    train_dpo(config, _pairs(STANDARD_ROWS), None, recorder)

    assert len(trl_losses) == len(recorder.losses) == steps
    assert trl_losses[-1] < trl_losses[0] - 0.1  # the run moves: the comparison is not of ten copies of ln 2
    assert recorder.losses == pytest.approx(trl_losses, abs=1e-5)
