"""Training on CUDA: bf16 and fp16 steps, checkpoint and resume, attention implementations.

Skipped without a CUDA device (see conftest.py); run them with `pytest -m gpu tests/engine` (README).
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
import torch

from tests.engine.conftest import rule_pairs
from tests.engine.test_training import Recorder, _losses
from training.engine import NullReporter, train_dpo
from training.engine.checkpoints import latest_checkpoint
from training.engine.model import load_policy

pytestmark = pytest.mark.gpu


def test_a_bf16_run_on_cuda_learns_and_records_its_device(make_config, tmp_path):
    config = make_config(device="cuda", precision="bf16", max_steps=8, batch_size=8, eval_every=4)
    recorder = Recorder()
    result = train_dpo(config, rule_pairs(64, seed=0), rule_pairs(16, seed=1), recorder)
    resolved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert resolved["device"].startswith("cuda") and resolved["dtype"] == "bfloat16"
    assert recorder.logged[1]["loss"] == pytest.approx(math.log(2), abs=2e-2)  # bf16 log-probs, fp32 loss
    assert all(math.isfinite(m["loss"]) for m in recorder.logged.values())
    assert result.status == "completed" and result.eval_report["num_pairs"] == 16


def test_checkpoint_and_resume_on_cuda_continue_the_same_run(make_config, tmp_path):
    train = rule_pairs(32, seed=0)
    settings = dict(device="cuda", precision="bf16", max_steps=6, batch_size=4, checkpoint_every=2, num_samples=0)
    train_dpo(make_config(output_dir=str(tmp_path / "whole"), **settings), train, [], NullReporter())
    config = make_config(output_dir=str(tmp_path / "split"), **settings)
    assert train_dpo(config, train, [], Recorder(stop_after=3)).status == "cancelled"
    assert latest_checkpoint(tmp_path / "split").name == "step-000003"
    resumed = train_dpo(config, train, [], Recorder(), resume=True)
    assert resumed.status == "completed" and resumed.final_step == 6
    whole, split = _losses(tmp_path / "whole"), _losses(tmp_path / "split")
    assert sorted(split) == sorted(whole)
    assert [split[s] for s in sorted(split)] == pytest.approx([whole[s] for s in sorted(whole)], rel=2e-2, abs=2e-3)


def test_an_fp16_run_scales_its_loss_and_stays_finite(make_config):
    recorder = Recorder()
    train_dpo(
        make_config(device="cuda", precision="fp16", max_steps=4, num_samples=0), rule_pairs(32, seed=0), [], recorder
    )
    assert all(math.isfinite(m["loss"]) for m in recorder.logged.values())


@pytest.mark.parametrize("attention", ["sdpa", "eager", "flash_attention_2"])
def test_each_attention_implementation_loads_on_cuda(make_config, tiny_model_dir, attention):
    if attention == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        pytest.skip("flash-attn is not installed (an optional extra)")
    model, _ = load_policy(tiny_model_dir, make_config(device="cuda", precision="bf16", attn_implementation=attention))
    assert model.get_base_model().config._attn_implementation == attention
    assert next(model.parameters()).device.type == "cuda"
    assert all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)  # the adapter stays fp32
