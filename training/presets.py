"""Starting points for a run's engine config; every field stays editable on the launch form and in the API."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

# Set per run by the service, never by a preset or a user.
MANAGED_FIELDS = ("model_dir", "output_dir", "ref_cache_dir", "init_adapter_dir")


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        Preset(
            key="quick",
            label="Quick check",
            description="CPU, small LoRA, a few dozen steps: checks data and plumbing in a minute or two.",
            values={
                "loss_type": "sigmoid",
                "beta": 0.1,
                "learning_rate": 5e-4,
                "epochs": 1,
                "max_steps": 30,
                "batch_size": 4,
                "grad_accum_steps": 1,
                "max_length": 256,
                "lora_r": 8,
                "lora_alpha": 16,
                "lora_dropout": 0.0,
                "warmup_ratio": 0.1,
                "eval_every": 10,
                "checkpoint_every": 10,
                "num_samples": 2,
                "sample_max_new_tokens": 24,
                "device": "cpu",
            },
        ),
        Preset(
            key="standard",
            label="Standard LoRA",
            description="One epoch of LoRA DPO on a GPU when there is one (r=16, β=0.1, lr 5e-5, cosine).",
            values={
                "loss_type": "sigmoid",
                "beta": 0.1,
                "learning_rate": 5e-5,
                "epochs": 1,
                "max_steps": None,
                "batch_size": 8,
                "grad_accum_steps": 2,
                "max_length": 1024,
                "lora_r": 16,
                "lora_alpha": 32,
                "lora_dropout": 0.05,
                "warmup_ratio": 0.1,
                "gradient_checkpointing": True,
                "eval_every": 100,
                "checkpoint_every": 100,
                "num_samples": 4,
                "sample_max_new_tokens": 128,
                "device": "auto",
            },
        ),
    )
}
DEFAULT_PRESET = "quick"


def editable_defaults(preset_key: str) -> dict[str, Any]:
    """Every user-editable engine field with the preset's value (or the engine default)."""
    from training.engine.config import EngineConfig

    values = {}
    for f in fields(EngineConfig):
        if f.name in MANAGED_FIELDS:
            continue
        values[f.name] = f.default if f.default is not MISSING else None
    values.update(PRESETS[preset_key].values)
    return values
