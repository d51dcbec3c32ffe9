"""Starting points for a run's engine config, stored as differences from the engine's defaults (the schema's).

Every field stays editable on the launch form and in the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from training.engine.settings_schema import SETTINGS, defaults

# Set per run by the service, never by a preset or a user.
MANAGED_FIELDS = tuple(name for name, setting in SETTINGS.items() if setting.managed)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    description: str
    changes: dict[str, Any] = field(default_factory=dict)  # only what differs from the engine's defaults


PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        Preset(
            key="quick",
            label="Quick check",
            description="CPU, small LoRA, a few dozen steps: checks data and plumbing in a minute or two.",
            changes={
                "learning_rate": 5e-4,
                "max_steps": 30,
                "batch_size": 4,
                "max_length": 256,
                "lora_r": 8,
                "lora_alpha": 16,
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
            description="One epoch of LoRA DPO at the engine's defaults, on a GPU when there is one, with gradient "
            "checkpointing and a little LoRA dropout.",
            changes={
                "grad_accum_steps": 2,
                "lora_dropout": 0.05,
                "gradient_checkpointing": True,
                "eval_every": 100,
                "checkpoint_every": 100,
                "sample_max_new_tokens": 128,
            },
        ),
    )
}
DEFAULT_PRESET = "quick"


def preset_values(preset_key: str) -> dict[str, Any]:
    """Every user-editable setting with the preset's value, or the engine's default where the preset keeps it."""
    values = {name: value for name, value in defaults().items() if name not in MANAGED_FIELDS}
    values.update(PRESETS[preset_key].changes)
    return values
