"""The settings schema: its loss table agrees with losses.py, and importing it (or the config) needs no torch."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch

from training.engine import losses
from training.engine.loss_table import LOSSES
from training.engine.settings_schema import GROUPS, SETTINGS, defaults, editable_settings

# A value each loss-specific setting can take for every loss that reads it, and a second one to perturb it with.
PERTURBED = {"label_smoothing": (0.1, 0.3), "tie_strength": (2.0, 5.0), "discopop_tau": (0.05, 0.5)}


def test_the_loss_table_names_exactly_the_functions_in_losses_py_plus_sft():
    assert set(LOSSES) == set(losses.LOSS_TYPES) | {"sft"}
    assert set(losses.TIE_LOSS_TYPES) == {name for name, loss in LOSSES.items() if loss.needs_ties}


def _loss(loss_type: str, **options) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    policy = -torch.rand(4, 2, generator=generator) * 10
    ref = -torch.rand(4, 2, generator=generator) * 10
    lengths = torch.tensor([[3, 5], [4, 2], [6, 6], [1, 7]])
    base = {
        "label_smoothing": 0.1 if "label_smoothing" in LOSSES[loss_type].reads else 0.0,
        "chosen_lengths": lengths[:, 0],
        "rejected_lengths": lengths[:, 1],
    }
    if LOSSES[loss_type].needs_ties:
        base |= {"tie_strength": 2.0, "is_tie": torch.tensor([True, False, True, False])}
    return losses.preference_loss(*policy.T, *ref.T, loss_type=loss_type, **(base | options))


@pytest.mark.parametrize("loss_type", losses.LOSS_TYPES)
@pytest.mark.parametrize("setting", ["beta", *PERTURBED])
def test_a_loss_depends_on_a_setting_exactly_when_the_table_says_it_reads_it(loss_type, setting):
    reads = setting in LOSSES[loss_type].reads
    first, second = PERTURBED.get(setting, (0.1, 0.7))
    if not reads and setting != "beta":
        # Settings a loss does not read are refused when set (or, for τ, simply unused).
        if setting == "discopop_tau":
            assert torch.equal(_loss(loss_type, discopop_tau=first), _loss(loss_type, discopop_tau=second))
        else:
            with pytest.raises(ValueError, match=f"{setting}: "):
                _loss(loss_type, **{setting: second})
        return
    changed = not torch.allclose(_loss(loss_type, **{setting: first}), _loss(loss_type, **{setting: second}))
    assert changed == reads


@pytest.mark.parametrize("loss_type", losses.LOSS_TYPES)
def test_a_loss_reads_completion_lengths_exactly_when_the_table_says_so(loss_type):
    options = {"chosen_lengths": None, "rejected_lengths": None}
    if "lengths" in LOSSES[loss_type].reads:
        with pytest.raises(ValueError, match="pass chosen_lengths"):
            _loss(loss_type, **options)
    else:
        assert torch.equal(_loss(loss_type, **options), _loss(loss_type))


def test_every_setting_has_a_group_help_and_a_default_that_passes_its_own_checks():
    for name, setting in SETTINGS.items():
        assert setting.group in GROUPS and setting.help and setting.label, name
        if name in defaults():
            assert setting.problems(setting.default) == [], name
        if setting.interval is not None:
            assert setting.why, f"{name}: say why the bounds are where they are"


def test_essentials_come_first_on_the_form():
    groups = [s.group for s in editable_settings()]
    assert groups[0] == "essentials" and groups == sorted(groups, key=list(GROUPS).index)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("beta", 0, r"beta: must be in \(0, 10\]"),
        ("beta", 1e9, r"beta: must be in \(0, 10\]"),
        ("beta", -0.1, r"beta: must be in \(0, 10\]"),
        ("beta", float("nan"), "beta: must be a finite number"),
        ("learning_rate", 10, r"learning_rate: must be in \(0, 0.01\]"),
        ("learning_rate", 0, r"learning_rate: must be in \(0, 0.01\]"),
        ("lora_r", 0, r"lora_r: must be in \[1, 1024\]"),
        ("lora_alpha", 0, r"lora_alpha: must be in \(0, 4096\]"),
        ("lora_dropout", 1.0, r"lora_dropout: must be in \[0, 1\)"),
        ("batch_size", 0, r"batch_size: must be in \[1, 4096\]"),
        ("batch_size", 2.5, "batch_size: must be a whole number"),
        ("grad_accum_steps", 0, r"grad_accum_steps: must be in \[1, 4096\]"),
        ("epochs", 0, r"epochs: must be in \[1, 100\]"),
        ("max_steps", 0, r"max_steps: must be in \[1, "),
        ("max_length", 1, r"max_length: must be in \[2, "),
        ("warmup_ratio", 1.0, r"warmup_ratio: must be in \[0, 1\)"),
        ("weight_decay", -0.1, r"weight_decay: must be in \[0, 1\]"),
        ("max_grad_norm", -1, r"max_grad_norm: must be in \[0, 1000\]"),
        ("label_smoothing", 1.0, r"label_smoothing: must be in \[0, 1\)"),
        ("tie_strength", 0, r"tie_strength: must be in \(0, 100\]"),
        ("discopop_tau", 0, r"discopop_tau: must be in \(0, 10\]"),
        ("eval_every", 0, r"eval_every: must be in \[1, "),
        ("num_samples", -1, r"num_samples: must be in \[0, 256\]"),
        ("seed", -1, r"seed: must be in \[0, "),
        ("device", "tpu", "device: 'tpu' is not one of auto, cpu, cuda"),
        ("precision", "fp8", "precision: 'fp8' is not one of auto, bf16, fp16, fp32"),
        ("attn_implementation", "flash", "attn_implementation: 'flash' is not one of"),
        ("gradient_checkpointing", "yes", "gradient_checkpointing: must be true or false"),
        ("loss_type", "dpo", "loss_type: unknown loss 'dpo'"),
        ("loss_type", ["rao_kupper", "davidson"], "loss_type: use at most one tie-aware loss"),
        ("loss_weights", [0, 0], "loss_weights: at least one weight must be > 0"),
        ("target_modules", [], 'target_modules: "all-linear" or a non-empty list'),
    ],
)
def test_each_setting_refuses_what_no_one_means(name, value, message):
    problems = SETTINGS[name].problems(value)
    assert len(problems) == 1 and re.match(message, problems[0]), problems


def test_the_schema_the_config_and_the_engine_package_import_without_torch():
    code = (
        "import sys\n"
        "import training.engine, training.engine.settings_schema, training.engine.loss_table, training.engine.config\n"
        "from training.engine import EngineConfig, ConfigError, LOSS_TYPES\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
