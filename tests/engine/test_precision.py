"""Precision and attention settings on CPU: what loads, and what is refused before anything loads."""

from __future__ import annotations

import pytest
import torch

from training.engine import ConfigError
from training.engine.model import load_policy, resolve_dtype


def test_auto_precision_is_fp32_on_cpu_and_bf16_on_cuda():
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert resolve_dtype("fp16", torch.device("cuda")) == torch.float16


def test_the_model_loads_with_sdpa_attention_and_the_chosen_precision(make_config, tiny_model_dir):
    model, _ = load_policy(tiny_model_dir, make_config(precision="bf16", device="cpu"))
    assert model.get_base_model().config._attn_implementation == "sdpa"
    assert model.get_base_model().model.embed_tokens.weight.dtype == torch.bfloat16
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)  # PEFT keeps LoRA in fp32


@pytest.mark.parametrize(
    ("hardware", "message"),
    [
        ({"device": "cpu", "precision": "fp16"}, "precision: fp16 runs on CUDA only"),
        ({"device": "cpu", "attn_implementation": "flash_attention_2"}, "flash_attention_2 runs on CUDA only"),
        (
            {"device": "cuda", "precision": "fp32", "attn_implementation": "flash_attention_2"},
            "flash_attention_2 needs bf16 or fp16",
        ),
    ],
)
def test_hardware_settings_that_cannot_work_are_refused_up_front(make_config, hardware, message):
    with pytest.raises(ConfigError, match=message):
        make_config(**hardware)
