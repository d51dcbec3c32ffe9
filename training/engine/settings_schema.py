"""Every engine setting described once: type, default, allowed values (and why), help and group.

Standard library only, so the web process can render the launch form and validate a run without importing torch.
`EngineConfig` (its fields, defaults and per-setting checks), the command line's flags, the launch form and the run
page's settings table are all built from `SETTINGS`; which settings each loss reads is `loss_table.LOSSES`.
Problems are reported as "setting: what is wrong", the shape every caller relies on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from training.engine.intervals import Interval, is_int, is_number
from training.engine.loss_table import LOSSES, TIE_CAP, TIE_LOSS_TYPES

GROUPS: dict[str, str] = {
    "essentials": "Essentials",
    "loss": "Loss",
    "lora": "LoRA adapter",
    "schedule": "Optimiser schedule and data",
    "evaluation": "Evaluation and checkpoints",
    "hardware": "Hardware and memory",
}


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Setting:
    name: str
    # path, int, number (a float; ints accepted), bool, choice, losses (a loss name or a list of them), weights
    # (a list of numbers), smoothing (a number or "auto") or modules ("all-linear" or a list of module names)
    kind: str
    group: str
    label: str
    help: str
    default: Any = REQUIRED
    interval: Interval | None = None
    why: str = ""  # why the interval is where it is
    choices: tuple[str, ...] = ()
    none_means: str = ""  # set when null is allowed: what it means ("never", "run all epochs")
    step: str = "any"  # the launch form's <input step>
    aliases: tuple[str, ...] = ()  # extra command-line flags, e.g. --lr
    managed: bool = False  # a path Verdict sets for each run: never on the form

    @property
    def optional(self) -> bool:
        return bool(self.none_means)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def annotation(self) -> str:
        base = {
            "path": "str",
            "int": "int",
            "number": "float",
            "bool": "bool",
            "choice": "str",
            "losses": "str | list[str]",
            "weights": "list[float]",
            "smoothing": "float | str",
            "modules": "str | list[str]",
        }[self.kind]
        return f"{base} | None" if self.optional or self.default is None else base

    def problems(self, value: Any) -> list[str]:
        """What is wrong with this value taken alone (cross-setting rules live in `EngineConfig.validate`)."""
        if value is None:
            return [] if self.optional or self.default is None else [f"{self.name}: required"]
        check = getattr(self, f"_check_{self.kind}")
        problem = check(value)
        return [f"{self.name}: {problem}"] if problem else []

    def _range(self, value: float) -> str | None:
        if self.interval is None or value in self.interval:
            return None
        return f"must be in {self.interval}, got {value!r}" + (f" ({self.why})" if self.why else "")

    def _check_path(self, value: Any) -> str | None:
        return None if isinstance(value, (str, os.PathLike)) else f"expected a folder path, got {value!r}"

    def _check_int(self, value: Any) -> str | None:
        return self._range(value) if is_int(value) else f"must be a whole number, got {value!r}"

    def _check_number(self, value: Any) -> str | None:
        return self._range(value) if is_number(value) else f"must be a finite number, got {value!r}"

    def _check_bool(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"

    def _check_choice(self, value: Any) -> str | None:
        return None if value in self.choices else f"{value!r} is not one of {', '.join(self.choices)}"

    def _check_losses(self, value: Any) -> str | None:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
            return f"give a loss name or a non-empty list of names, got {value!r}"
        unknown = [n for n in names if n not in LOSSES]
        if unknown:
            return f"unknown loss {unknown[0]!r}; choose from {', '.join(LOSSES)}"
        if len(set(names)) != len(names):
            return f"{list(names)} lists a loss twice"
        tie_losses = [n for n in names if LOSSES[n].needs_ties]
        if len(tie_losses) > 1:
            return f"use at most one tie-aware loss ({', '.join(TIE_LOSS_TYPES)})"
        return None

    def _check_weights(self, value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or not all(is_number(w) and w >= 0 for w in value):
            return f"a list of numbers >= 0, one per loss type, got {value!r}"
        return None if any(w > 0 for w in value) else "at least one weight must be > 0"

    def _check_smoothing(self, value: Any) -> str | None:
        if value == "auto":
            return None
        return self._range(value) if is_number(value) else f'must be a number or "auto", got {value!r}'

    def _check_modules(self, value: Any) -> str | None:
        if value == "all-linear" or (
            isinstance(value, list) and value and all(isinstance(m, str) and m for m in value)
        ):
            return None
        return f'"all-linear" or a non-empty list of module names, got {value!r}'


# fmt: off
SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        # -- paths Verdict sets per run (the command line's --model and --out) --
        Setting("model_dir", "path", "essentials", "Base model", "The base model folder (transformers format).",
                aliases=("--model",), managed=True),
        Setting("output_dir", "path", "essentials", "Output folder", "Where the adapter, metrics and report go.",
                aliases=("--out",), managed=True),
        Setting("ref_cache_dir", "path", "hardware", "Reference cache folder",
                "Where precomputed reference log-probs are cached.", default=None, none_means="~/.cache/verdict-engine",
                managed=True),
        Setting("init_adapter_dir", "path", "essentials", "Starting adapter",
                "An earlier run's adapter folder to continue training (the next on-policy round) instead of a fresh "
                "LoRA; its own LoRA settings (r, alpha, target modules) then apply. The reference stays the base "
                "model.", default=None, none_means="a fresh LoRA adapter", managed=True),
        # -- essentials --
        Setting("loss_type", "losses", "essentials", "Loss types",
                "The preference loss; several are summed with their weights (e.g. a DPO loss plus a little sft).",
                default="sigmoid", aliases=("--loss",)),
        Setting("beta", "number", "essentials", "β (KL strength)",
                "How strongly the policy is held to the base model: lower moves it further. 0.1 is the usual DPO "
                "value; papers sweep 0.01–1.", default=0.1, interval=Interval(0.0, 10.0, low_open=True),
                why="β ≤ 0 removes the pull to the base model; no DPO-family paper uses β above 10, where margins "
                "and losses blow up"),
        Setting("learning_rate", "number", "essentials", "Learning rate",
                "AdamW's peak learning rate. LoRA DPO works at 5e-6 to 5e-4; raise it for tiny models.",
                default=5e-5, interval=Interval(0.0, 1e-2, low_open=True), aliases=("--lr",),
                why="above 1e-2 AdamW diverges on transformer weights"),
        Setting("epochs", "int", "essentials", "Epochs",
                "Passes over the training pairs; DPO overfits quickly, 1–3 is typical.", default=1,
                interval=Interval(1, 100), step="1", why="at least one pass; past 100 passes DPO only memorises"),
        Setting("max_steps", "int", "essentials", "Max steps", "Stop after this many optimiser steps.",
                default=None, none_means="run all epochs", interval=Interval(1, 10_000_000), step="1",
                why="a run takes at least one step"),
        Setting("batch_size", "int", "essentials", "Batch size",
                "Pairs per micro-batch; lower it when memory runs out and raise gradient accumulation instead.",
                default=8, interval=Interval(1, 4096), step="1", why="a batch holds at least one pair"),
        Setting("max_length", "int", "essentials", "Max length",
                "Tokens per prompt + completion; longer pairs are truncated, pairs whose prompt alone is longer are "
                "dropped.", default=1024, interval=Interval(2, 131_072), step="1",
                why="a prompt and a completion need at least a token each; no model here reads more than 128k"),
        # -- loss --
        Setting("loss_weights", "weights", "loss", "Loss weights",
                "One weight per loss type, in order; all 1 when empty.", default=None, none_means="all 1"),
        Setting("label_smoothing", "smoothing", "loss", "Label smoothing ε",
                'The assumed rate of flipped labels, for robust, exo_pair and the aot losses; "auto" (robust only) '
                "uses 1 − the reviewers' mean agreement.", default=0.0, interval=Interval(0.0, 1.0, high_open=True),
                why="a probability that a label is wrong"),
        Setting("tie_strength", "number", "loss", "Tie strength (θ or ν)",
                "How likely the tie-aware losses find a tie: θ > 1 for rao_kupper, ν > 0 for davidson.",
                default=None, none_means="the loss's default (θ 2, ν 1: a tie as likely as a win at zero margin)",
                interval=Interval(0.0, TIE_CAP, low_open=True),
                why="above 100 a tie is 98% likely at zero margin, more than any judge's ties"),
        Setting("discopop_tau", "number", "loss", "DiscoPOP τ",
                "Temperature of DiscoPOP's blend between logistic and exponential loss; the paper uses 0.05.",
                default=0.05, interval=Interval(0.0, 10.0, low_open=True),
                why="τ ≤ 0 is undefined; above 10 the blend no longer switches"),
        Setting("divergence_margin", "number", "loss", "Divergence limit",
                "Stop the run as failed when a step's mean |reward margin| exceeds this: the policy has diverged "
                "(healthy runs stay below max_length/2, IPO's target, and usually below 50).", default=1e4,
                interval=Interval(0.0, 1e9, low_open=True), why="a positive limit"),
        # -- LoRA --
        Setting("lora_r", "int", "lora", "LoRA rank r",
                "Rank of the adapter matrices: 8–64 is usual; higher learns more and costs memory.", default=16,
                interval=Interval(1, 1024), step="1", why="a rank is at least 1; past 1024 use full fine-tuning"),
        Setting("lora_alpha", "number", "lora", "LoRA α",
                "Scales the adapter's update by α/r; 2r is the common choice.", default=32,
                interval=Interval(0.0, 4096.0, low_open=True), why="α ≤ 0 turns the adapter off or flips it"),
        Setting("lora_dropout", "number", "lora", "LoRA dropout",
                "Dropout on the adapter's input; 0–0.1 helps on small datasets.", default=0.0,
                interval=Interval(0.0, 1.0, high_open=True), why="a probability below 1"),
        Setting("target_modules", "modules", "lora", "Target modules",
                '"all-linear", or comma-separated module names (e.g. q_proj,v_proj) to adapt fewer layers.',
                default="all-linear"),
        # -- schedule and data --
        Setting("grad_accum_steps", "int", "schedule", "Gradient accumulation",
                "Micro-batches per optimiser step: effective batch = batch size × this.", default=1,
                interval=Interval(1, 4096), step="1", aliases=("--grad-accum",), why="at least one micro-batch"),
        Setting("warmup_ratio", "number", "schedule", "Warm-up ratio",
                "Share of steps over which the learning rate ramps up from near 0.", default=0.1,
                interval=Interval(0.0, 1.0, high_open=True), why="a share of the run below all of it"),
        Setting("lr_scheduler", "choice", "schedule", "Learning-rate schedule",
                "Decay after warm-up: cosine (TRL's DPO default), linear, or constant.", default="cosine",
                choices=("cosine", "linear", "constant")),
        Setting("weight_decay", "number", "schedule", "Weight decay",
                "AdamW weight decay on the adapter; usually 0 for LoRA.", default=0.0, interval=Interval(0.0, 1.0),
                why="decay above 1 per step erases the weights"),
        Setting("max_grad_norm", "number", "schedule", "Gradient clipping",
                "Clip the gradient norm to this; 0 turns clipping off.", default=1.0, interval=Interval(0.0, 1e3),
                why="a norm is >= 0; above 1000 clipping never happens, use 0"),
        Setting("truncation_mode", "choice", "schedule", "Truncation",
                "Which end of an over-long prompt is kept.", default="keep_start",
                choices=("keep_start", "keep_end")),
        Setting("seed", "int", "schedule", "Seed", "Seeds the adapter's initial weights and the data order.",
                default=42, interval=Interval(0, 2**32 - 1), step="1", why="numpy's seed range"),
        # -- evaluation and checkpoints --
        Setting("eval_every", "int", "evaluation", "Evaluate every",
                "Score the held-out pairs every N steps (and at the end).", default=None,
                none_means="only at the end", interval=Interval(1, 10_000_000), step="1", why="N >= 1"),
        Setting("checkpoint_every", "int", "evaluation", "Checkpoint every",
                "Save a resumable checkpoint every N steps.", default=None, none_means="never",
                interval=Interval(1, 10_000_000), step="1", why="N >= 1"),
        Setting("num_samples", "int", "evaluation", "Sample generations",
                "Held-out prompts answered by the trained model in the report.", default=4,
                interval=Interval(0, 256), step="1", why="0 turns samples off; more slows the report down"),
        Setting("sample_max_new_tokens", "int", "evaluation", "Sample length",
                "New tokens per sample generation.", default=48, interval=Interval(0, 4096), step="1",
                why="0 turns samples off"),
        # -- hardware and memory --
        Setting("device", "choice", "hardware", "Device", "auto picks CUDA when torch sees a GPU, else CPU.",
                default="auto", choices=("auto", "cpu", "cuda")),
        Setting("precision", "choice", "hardware", "Precision",
                "Weights and activations: auto is bf16 on CUDA and fp32 on CPU; fp16 (CUDA only, with loss "
                "scaling) for GPUs without bf16.", default="auto", choices=("auto", "bf16", "fp16", "fp32")),
        Setting("attn_implementation", "choice", "hardware", "Attention",
                "sdpa (PyTorch's fused attention) everywhere; flash_attention_2 on CUDA when the flash-attn "
                "package is installed; eager for debugging.", default="sdpa",
                choices=("sdpa", "flash_attention_2", "eager")),
        Setting("gradient_checkpointing", "bool", "hardware", "Gradient checkpointing",
                "Recompute activations in the backward pass: much less memory, about 30% slower.", default=False),
        Setting("share_prompt", "bool", "hardware", "Share the prompt pass",
                "Run each pair's prompt once for both completions (a shared KV cache); off is TRL's concatenated "
                "forward.", default=True),
        Setting("precompute_ref_logps", "bool", "hardware", "Precompute reference log-probs",
                "Score the reference once before training and cache it on disk: faster steps when runs repeat.",
                default=False),
    )
}
# fmt: on


def editable_settings() -> list[Setting]:
    """The settings a user may set (not the per-run paths), essentials first, then group by group."""
    order = list(GROUPS)
    return sorted((s for s in SETTINGS.values() if not s.managed), key=lambda s: order.index(s.group))


def defaults() -> dict[str, Any]:
    """Every setting's default (required paths left out)."""
    return {name: s.default for name, s in SETTINGS.items() if s.default is not REQUIRED}
