"""The engine's configuration: a dataclass generated from the settings schema, validated as a whole.

Fields, defaults and the per-setting checks all come from `settings_schema.SETTINGS`; this module adds only the
rules that tie settings together (loss weights per loss, ε and θ per loss, devices and paths). Importing it does
not import torch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from typing import Any

from training.engine.loss_table import LOSSES, TIE_LOSS_TYPES, loss_problems
from training.engine.settings_schema import REQUIRED, SETTINGS, Setting

LOSS_TYPES: list[str] = list(LOSSES)

__all__ = ["LOSS_TYPES", "TIE_LOSS_TYPES", "ConfigError", "EngineConfig"]


class ConfigError(ValueError):
    """Raised with every problem found in a configuration, one per line."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("invalid training configuration:\n" + "\n".join(f"- {e}" for e in self.errors))


class _EngineConfigMethods:
    """The behaviour of EngineConfig; its fields are generated below from the schema."""

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
        return self.tie_strength if self.tie_strength is not None else LOSSES[self.tie_loss].default_tie_strength

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Build and validate a config; raises ConfigError naming every bad field."""
        if not isinstance(data, dict):
            raise ConfigError([f"expected a mapping of settings, got {type(data).__name__}"])
        errors = [
            f"{key}: unknown setting (known settings: {', '.join(sorted(SETTINGS))})"
            for key in data
            if key not in SETTINGS
        ]
        errors += [f"{key}: required" for key in ("model_dir", "output_dir") if not data.get(key)]
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
        """Every problem with this config, as "setting: message" lines a user can act on; empty when usable."""
        errors: list[str] = []
        for name, setting in SETTINGS.items():
            if setting.kind == "path" and not check_paths:
                continue
            errors += setting.problems(getattr(self, name))
        bad = {e.split(":", 1)[0] for e in errors}
        errors += self._validate_paths() if check_paths and not bad & {"model_dir", "output_dir"} else []
        if not bad & {"loss_type", "loss_weights", "label_smoothing", "tie_strength"}:
            errors += self._validate_losses()
        errors += self._validate_hardware()
        return errors

    def _validate_paths(self) -> list[str]:
        errors = []
        if not os.path.isdir(self.model_dir):
            errors.append(f"model_dir: {self.model_dir} is not a directory")
        elif not os.path.isfile(os.path.join(self.model_dir, "config.json")):
            errors.append(f"model_dir: {self.model_dir} has no config.json (is it a transformers model folder?)")
        if os.path.exists(self.output_dir) and not os.path.isdir(self.output_dir):
            errors.append(f"output_dir: {self.output_dir} exists and is not a directory")
        adapter = self.init_adapter_dir
        if isinstance(adapter, (str, os.PathLike)) and adapter:
            if not os.path.isfile(os.path.join(adapter, "adapter_config.json")):
                errors.append(f"init_adapter_dir: {adapter} holds no adapter (no adapter_config.json)")
        return errors

    def _validate_losses(self) -> list[str]:
        types = self.loss_types
        errors = []
        if self.loss_weights is not None and len(self.loss_weights) != len(types):
            errors.append(
                f"loss_weights: {len(self.loss_weights)} weights for {len(types)} loss types; give one per loss"
            )
        return errors + loss_problems(types, label_smoothing=self.label_smoothing, tie_strength=self.tie_strength)

    def _validate_hardware(self) -> list[str]:
        errors = []
        if self.device == "cpu" and self.precision == "fp16":
            errors.append("precision: fp16 runs on CUDA only; use fp32 or bf16 on CPU")
        if self.attn_implementation == "flash_attention_2":
            if self.device == "cpu":
                errors.append("attn_implementation: flash_attention_2 runs on CUDA only; use sdpa on CPU")
            if self.precision == "fp32":
                errors.append("attn_implementation: flash_attention_2 needs bf16 or fp16 precision")
        return errors


def flash_attention_problems() -> list[str]:
    """Checked where the model loads (the web process need not have flash-attn installed to launch a run)."""
    if importlib.util.find_spec("flash_attn") is None:
        return ["attn_implementation: flash_attention_2 needs the flash-attn package (pip install flash-attn)"]
    return []


def _field(setting: Setting) -> tuple[str, str] | tuple[str, str, Any]:
    if setting.default is REQUIRED:
        return (setting.name, setting.annotation)
    return (setting.name, setting.annotation, dataclasses.field(default=setting.default))


EngineConfig = dataclasses.make_dataclass(
    "EngineConfig",
    [_field(s) for s in SETTINGS.values()],
    bases=(_EngineConfigMethods,),
)
EngineConfig.__module__ = __name__  # so pickle and repr find it here
EngineConfig.__doc__ = "Every engine setting (see settings_schema.SETTINGS), as plain values the engine reads."
