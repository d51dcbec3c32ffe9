"""The engine's configuration: one dataclass, validated as a whole so users see every problem at once."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any

from training.engine import losses

# `sft` is the NLL of the chosen completion; the loop computes it from per-token log-probs, so losses.py has no entry.
LOSS_TYPES: list[str] = [*losses.LOSS_TYPES, "sft"]
TIE_LOSS_TYPES: list[str] = list(losses.TIE_LOSS_TYPES)

# With d = 0 these give ties, wins and losses the same probability, 1/3: (θ − 1)/(θ + 1) and ν/(ν + 2).
DEFAULT_TIE_STRENGTH = {"rao_kupper": 2.0, "davidson": 1.0}

TRUNCATION_MODES = ("keep_start", "keep_end")
LR_SCHEDULERS = ("cosine", "linear", "constant")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """Raised with every problem found in a configuration, one per line."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid training configuration:\n" + "\n".join(f"- {e}" for e in self.errors))


@dataclass
class EngineConfig:
    model_dir: str
    output_dir: str
    loss_type: str | list[str] = "sigmoid"
    loss_weights: list[float] | None = None
    beta: float = 0.1
    label_smoothing: float | str = 0.0
    tie_strength: float | None = None
    discopop_tau: float = 0.05
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    epochs: int = 1
    max_steps: int | None = None
    batch_size: int = 8
    grad_accum_steps: int = 1
    max_length: int = 1024
    truncation_mode: str = "keep_start"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    target_modules: str | list[str] = "all-linear"
    warmup_ratio: float = 0.1
    lr_scheduler: str = "cosine"
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = False
    # Run each pair's prompt once for both completions (a shared KV cache); off = TRL's concatenated forward.
    share_prompt: bool = True
    seed: int = 42
    eval_every: int | None = None
    checkpoint_every: int | None = None
    precompute_ref_logps: bool = False
    ref_cache_dir: str | None = None
    # An earlier run's adapter folder to continue training (the next on-policy round) instead of a fresh LoRA; its
    # own LoRA settings (r, alpha, target modules) then apply. The reference stays the base model.
    init_adapter_dir: str | None = None
    num_samples: int = 4
    sample_max_new_tokens: int = 48
    device: str = "auto"

    @property
    def loss_types(self) -> list[str]:
        if isinstance(self.loss_type, str):
            return [self.loss_type]
        if isinstance(self.loss_type, (list, tuple)) and all(isinstance(t, str) for t in self.loss_type):
            return list(self.loss_type)
        return []  # validate() reports the bad value

    @property
    def resolved_loss_weights(self) -> list[float]:
        return list(self.loss_weights) if self.loss_weights is not None else [1.0] * len(self.loss_types)

    @property
    def tie_loss(self) -> str | None:
        """The tie-aware loss in use, if any: only then are tied pairs trained on."""
        return next((t for t in self.loss_types if t in TIE_LOSS_TYPES), None)

    @property
    def resolved_tie_strength(self) -> float | None:
        if self.tie_loss is None:
            return None
        return self.tie_strength if self.tie_strength is not None else DEFAULT_TIE_STRENGTH[self.tie_loss]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Build and validate a config; raises ConfigError naming every bad field."""
        if not isinstance(data, dict):
            raise ConfigError([f"expected a mapping of settings, got {type(data).__name__}"])
        known = {f.name for f in dataclasses.fields(cls)}
        errors = [
            f"{key}: unknown setting (known settings: {', '.join(sorted(known))})" for key in data if key not in known
        ]
        for key in ("model_dir", "output_dir"):
            if not data.get(key):
                errors.append(f"{key}: required")
        if errors:
            raise ConfigError(errors)
        config = cls(**data)
        config.check()
        return config

    def check(self) -> None:
        errors = self.validate()
        if errors:
            raise ConfigError(errors)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self, *, check_paths: bool = True) -> list[str]:
        """Every problem with this config, as messages a user can act on; empty when it is usable."""
        errors: list[str] = []
        errors += self._validate_paths() if check_paths else []
        errors += self._validate_loss()
        errors += self._validate_optimisation()
        errors += self._validate_lora()
        if self.truncation_mode not in TRUNCATION_MODES:
            errors.append(f"truncation_mode: {self.truncation_mode!r} is not one of {', '.join(TRUNCATION_MODES)}")
        if not _is_int(self.max_length) or self.max_length < 2:
            errors.append(f"max_length: must be an integer >= 2, got {self.max_length!r}")
        if self.device not in DEVICES:
            errors.append(f"device: {self.device!r} is not one of {', '.join(DEVICES)}")
        for name in ("eval_every", "checkpoint_every"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 1):
                errors.append(f"{name}: must be a positive integer or null (never), got {value!r}")
        for name in ("gradient_checkpointing", "precompute_ref_logps", "share_prompt"):
            if not isinstance(getattr(self, name), bool):
                errors.append(f"{name}: must be true or false, got {getattr(self, name)!r}")
        for name in ("num_samples", "sample_max_new_tokens"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                errors.append(f"{name}: must be an integer >= 0, got {value!r}")
        return errors

    def _validate_paths(self) -> list[str]:
        errors = []
        for name in ("model_dir", "output_dir", "ref_cache_dir", "init_adapter_dir"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                errors.append(f"{name}: expected a folder path, got {value!r}")
        if errors:
            return errors
        if not self.model_dir:
            errors.append("model_dir: required")
        elif not os.path.isdir(self.model_dir):
            errors.append(f"model_dir: {self.model_dir} is not a directory")
        elif not os.path.isfile(os.path.join(self.model_dir, "config.json")):
            errors.append(f"model_dir: {self.model_dir} has no config.json (is it a transformers model folder?)")
        if self.init_adapter_dir and not os.path.isfile(os.path.join(self.init_adapter_dir, "adapter_config.json")):
            errors.append(f"init_adapter_dir: {self.init_adapter_dir} holds no adapter (no adapter_config.json)")
        if not self.output_dir:
            errors.append("output_dir: required")
        elif os.path.exists(self.output_dir) and not os.path.isdir(self.output_dir):
            errors.append(f"output_dir: {self.output_dir} exists and is not a directory")
        return errors

    def _validate_loss(self) -> list[str]:
        errors = []
        types = self.loss_types
        if not types:
            errors.append(f"loss_type: give a loss name or a non-empty list of names, got {self.loss_type!r}")
        unknown = [t for t in types if t not in LOSS_TYPES]
        for t in unknown:
            errors.append(f"loss_type: unknown loss {t!r}; choose from {', '.join(LOSS_TYPES)}")
        if len(set(types)) != len(types):
            errors.append(f"loss_type: {types} lists a loss twice")
        if self.loss_weights is not None and not isinstance(self.loss_weights, (list, tuple)):
            errors.append(f"loss_weights: a list of numbers, one per loss type, got {self.loss_weights!r}")
        elif self.loss_weights is not None:
            if len(self.loss_weights) != len(types):
                errors.append(
                    f"loss_weights: {len(self.loss_weights)} weights for {len(types)} loss types; give one per loss"
                )
            if any(not _is_number(w) or w < 0 for w in self.loss_weights):
                errors.append(f"loss_weights: weights must be numbers >= 0, got {self.loss_weights}")
        if not _is_number(self.beta) or not self.beta > 0:
            errors.append(f"beta: must be > 0, got {self.beta!r} (0.1 is the usual DPO value)")
        if len([t for t in types if t in TIE_LOSS_TYPES]) > 1:
            errors.append(f"loss_type: use at most one tie-aware loss ({', '.join(TIE_LOSS_TYPES)})")
        errors += self._validate_tie_strength()
        errors += self._validate_label_smoothing()
        if "discopop" in types and (not _is_number(self.discopop_tau) or self.discopop_tau <= 0):
            errors.append(f"discopop_tau: must be > 0, got {self.discopop_tau!r}")
        return errors

    def _validate_tie_strength(self) -> list[str]:
        tie_loss = self.tie_loss
        if self.tie_strength is None:
            return []
        if tie_loss is None:
            return [f"tie_strength: only used by a tie-aware loss ({', '.join(TIE_LOSS_TYPES)}); remove it"]
        lower, symbol = (1.0, "θ") if tie_loss == "rao_kupper" else (0.0, "ν")
        if not _is_number(self.tie_strength) or not math.isfinite(self.tie_strength) or self.tie_strength <= lower:
            return [
                f"tie_strength: {tie_loss} needs {symbol} > {lower:g}, got {self.tie_strength!r} "
                f"(default {DEFAULT_TIE_STRENGTH[tie_loss]:g})"
            ]
        return []

    def _validate_label_smoothing(self) -> list[str]:
        eps = self.label_smoothing
        smoothed = [t for t in self.loss_types if t in losses.LABEL_SMOOTHING_LOSS_TYPES]
        if eps == "auto":
            if "robust" not in self.loss_types:
                return ['label_smoothing: "auto" is only for the robust loss']
            return []
        if not _is_number(eps):
            return [f'label_smoothing: must be a number or "auto", got {eps!r}']
        if eps != 0 and not smoothed:
            return [
                f"label_smoothing: {eps} has no effect on {', '.join(self.loss_types)}; "
                f"it is used by {', '.join(losses.LABEL_SMOOTHING_LOSS_TYPES)}"
            ]
        if "exo_pair" in smoothed and not 0 < eps < 1:
            return [f"label_smoothing: exo_pair needs 0 < label_smoothing < 1 (try 1e-3), got {eps}"]
        if set(smoothed) - {"exo_pair"} and not 0 <= eps < 0.5:
            return [f"label_smoothing: must be in [0, 0.5), got {eps}"]
        return []

    def _validate_optimisation(self) -> list[str]:
        errors = []
        if not _is_number(self.learning_rate) or not self.learning_rate > 0:
            errors.append(f"learning_rate: must be > 0, got {self.learning_rate!r}")
        if not _is_number(self.weight_decay) or self.weight_decay < 0:
            errors.append(f"weight_decay: must be >= 0, got {self.weight_decay!r}")
        for name in ("epochs", "batch_size", "grad_accum_steps"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                errors.append(f"{name}: must be an integer >= 1, got {value!r}")
        if self.max_steps is not None and (not _is_int(self.max_steps) or self.max_steps < 1):
            errors.append(f"max_steps: must be an integer >= 1 or null (run all epochs), got {self.max_steps!r}")
        if not _is_number(self.warmup_ratio) or not 0 <= self.warmup_ratio < 1:
            errors.append(f"warmup_ratio: must be in [0, 1), got {self.warmup_ratio!r}")
        if self.lr_scheduler not in LR_SCHEDULERS:
            errors.append(f"lr_scheduler: {self.lr_scheduler!r} is not one of {', '.join(LR_SCHEDULERS)}")
        if not _is_number(self.max_grad_norm) or self.max_grad_norm < 0:
            errors.append(f"max_grad_norm: must be >= 0 (0 turns clipping off), got {self.max_grad_norm!r}")
        if not _is_int(self.seed):
            errors.append(f"seed: must be an integer, got {self.seed!r}")
        return errors

    def _validate_lora(self) -> list[str]:
        errors = []
        if not _is_int(self.lora_r) or self.lora_r < 1:
            errors.append(f"lora_r: must be an integer >= 1, got {self.lora_r!r}")
        if not _is_number(self.lora_alpha) or self.lora_alpha <= 0:
            errors.append(f"lora_alpha: must be > 0, got {self.lora_alpha!r}")
        if not _is_number(self.lora_dropout) or not 0 <= self.lora_dropout < 1:
            errors.append(f"lora_dropout: must be in [0, 1), got {self.lora_dropout!r}")
        modules = self.target_modules
        if not (
            modules == "all-linear"
            or (isinstance(modules, list) and modules and all(isinstance(m, str) for m in modules))
        ):
            errors.append(f'target_modules: "all-linear" or a non-empty list of module names, got {modules!r}')
        return errors


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
