import json
import math

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from tests.engine.conftest import rule_pairs
from training.engine import NullReporter, train_dpo
from training.engine.checkpoints import latest_checkpoint
from training.engine.data import collate, tokenize_pairs
from training.engine.model import load_policy, sequence_logps
from training.engine.objective import Objective


class Recorder(NullReporter):
    """Keeps what the engine reports and asks it to stop after `stop_after` steps."""

    def __init__(self, stop_after: int | None = None):
        self.stop_after = stop_after
        self.total = None
        self.logged: dict[int, dict] = {}
        self.checkpoints: list[tuple[int, str]] = []

    def start(self, total_steps):
        self.total = total_steps

    def log(self, step, metrics):
        self.logged[step] = metrics

    def should_stop(self):
        return self.stop_after is not None and len(self.logged) >= self.stop_after

    def checkpoint(self, step, path):
        self.checkpoints.append((step, path))


def _losses(output_dir) -> dict[int, float]:
    lines = (output_dir / "metrics.jsonl").read_text().splitlines()
    return {row["step"]: row["loss"] for row in map(json.loads, lines)}


def test_first_step_loss_is_ln2_because_the_fresh_adapter_is_the_reference(make_config):
    recorder = Recorder()
    train_dpo(make_config(max_steps=1, num_samples=0), rule_pairs(8, seed=0), [], recorder)
    assert recorder.logged[1]["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert recorder.logged[1]["rewards/margins"] == 0.0


def test_output_folder_has_a_loadable_adapter_config_metrics_report_and_card(make_config, tiny_model_dir, tmp_path):
    config = make_config(max_steps=4, eval_every=2, loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.5])
    recorder = Recorder()
    result = train_dpo(config, rule_pairs(32, seed=0), rule_pairs(8, seed=1), recorder)
    out = tmp_path / "out"
    assert (result.status, result.final_step, result.total_steps) == ("completed", 4, 4)
    assert recorder.total == 4 and sorted(recorder.logged) == [1, 2, 3, 4]
    for key in ("loss", "rewards/chosen", "rewards/margins", "rewards/accuracies", "logps/rejected", "learning_rate"):
        assert key in recorder.logged[1]
    assert {"pairs_per_s", "tokens_per_s", "eta_s", "eval/loss", "eval/rewards/accuracies"} <= set(recorder.logged[2])

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(out))
    saved = load_file(str(out / "adapter_model.safetensors"))
    assert any("lora_B" in k and v.abs().sum() > 0 for k, v in saved.items())  # it learned something
    assert model.peft_config["default"].r == 8

    resolved = json.loads((out / "config.json").read_text())
    assert resolved["config"]["loss_type"] == ["sigmoid", "sft"]
    assert len(resolved["train_sha256"]) == 64 and resolved["num_train_pairs"] == 32
    assert sorted(_losses(out)) == [1, 2, 3, 4]

    report = json.loads((out / "eval_report.json").read_text())
    assert report == json.loads(json.dumps(result.eval_report))
    for key in ("preference_accuracy", "reference_preference_accuracy", "reward_margin", "eval_loss", "kl"):
        assert report[key] is not None, key
    assert report["slices"]["locale"]["de-DE"]["count"] + report["slices"]["locale"]["en-US"]["count"] == 8
    assert report["slices"]["tag"]["animals"]["count"] == 4
    assert len(report["samples"]) == 2 and {"prompt", "adapter", "reference"} <= set(report["samples"][0])
    assert report["kl"]["per_sequence"] > 0  # exact per-position KLs: never negative, positive once it learned
    histogram = report["reward_distribution"]
    assert len(histogram["edges"]) == len(histogram["chosen"]) + 1
    assert sum(histogram["chosen"]) == sum(histogram["rejected"]) == report["num_pairs"] == 8
    card = (out / "README.md").read_text()
    assert "PeftModel.from_pretrained" in card and "sigmoid, sft" in card


def test_checkpoint_and_resume_reproduce_an_uninterrupted_run_exactly(make_config, tmp_path):
    train = rule_pairs(24, seed=0)
    settings = dict(max_steps=6, batch_size=4, grad_accum_steps=2, checkpoint_every=2, num_samples=0)
    whole = train_dpo(make_config(output_dir=str(tmp_path / "whole"), **settings), train, [], NullReporter())

    recorder = Recorder(stop_after=3)
    config = make_config(output_dir=str(tmp_path / "split"), **settings)
    cancelled = train_dpo(config, train, [], recorder)
    assert (cancelled.status, cancelled.final_step) == ("cancelled", 3)
    assert [step for step, _ in recorder.checkpoints] == [2, 3]
    assert latest_checkpoint(tmp_path / "split").name == "step-000003"

    resumed = train_dpo(config, train, [], Recorder(), resume=True)
    assert (resumed.status, resumed.final_step) == ("completed", whole.final_step)
    assert _losses(tmp_path / "split") == _losses(tmp_path / "whole")
    final_whole = load_file(str(tmp_path / "whole" / "adapter_model.safetensors"))
    final_split = load_file(str(tmp_path / "split" / "adapter_model.safetensors"))
    assert all(torch.equal(final_whole[k], final_split[k]) for k in final_whole)


def test_cancelling_before_the_first_step_saves_a_checkpoint_and_reports_cancelled(make_config, tmp_path):
    recorder = Recorder(stop_after=0)
    result = train_dpo(make_config(max_steps=5, num_samples=0), rule_pairs(8, seed=0), [], recorder)
    assert (result.status, result.final_step, result.total_steps) == ("cancelled", 0, 5)
    assert recorder.checkpoints and latest_checkpoint(tmp_path / "out") is not None
    assert not (tmp_path / "out" / "adapter_model.safetensors").exists()


def test_precomputed_reference_logps_are_cached_and_match_the_live_reference(make_config, tmp_path):
    train = rule_pairs(16, seed=0)
    live = Recorder()
    train_dpo(make_config(output_dir=str(tmp_path / "live"), max_steps=3, num_samples=0), train, [], live)
    first = Recorder()
    config = make_config(output_dir=str(tmp_path / "a"), max_steps=3, num_samples=0, precompute_ref_logps=True)
    train_dpo(config, train, [], first)
    again = make_config(output_dir=str(tmp_path / "b"), max_steps=3, num_samples=0, precompute_ref_logps=True)
    train_dpo(again, train, [], Recorder())
    assert json.loads((tmp_path / "a" / "config.json").read_text())["ref_cache_hit"] is False
    assert json.loads((tmp_path / "b" / "config.json").read_text())["ref_cache_hit"] is True
    assert len(list((tmp_path / "ref-cache").glob("*.pt"))) == 1
    for step in (1, 2, 3):
        assert first.logged[step]["loss"] == pytest.approx(live.logged[step]["loss"], abs=1e-5)


def test_pair_weights_make_the_batch_loss_a_weighted_mean(make_config, tiny_model_dir):
    config = make_config(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 2.0])
    model, tokenizer = load_policy(tiny_model_dir, config)
    with torch.no_grad():  # move the policy away from the reference so pairs have different losses
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    pairs = rule_pairs(4, seed=0)
    items, _ = tokenize_pairs(pairs, tokenizer, max_length=None)
    batch = collate(items, tokenizer.pad_token_id)
    objective = Objective.from_config(config, pairs)
    with torch.no_grad():
        logps, counts, nll = sequence_logps(model, batch)
        with model.disable_adapter():
            ref, _, _ = sequence_logps(model, batch)
    kwargs = dict(chosen_lengths=counts[:4], rejected_lengths=counts[4:], is_tie=batch["is_tie"], sft_nll=nll)
    per_pair = objective.per_pair(logps[:4], logps[4:], ref[:4], ref[4:], **kwargs)
    sigmoid = -torch.nn.functional.logsigmoid(0.1 * ((logps[:4] - ref[:4]) - (logps[4:] - ref[4:])))
    assert torch.allclose(per_pair, sigmoid + 2.0 * nll)
    scored = batch["completion_mask"][:4, 1:].bool()
    assert nll > 0 and counts[:4].tolist() == batch["completion_mask"][:4].sum(1).tolist() and scored.any()
    weights = torch.tensor([1.0, 3.0, 0.0, 1.0])
    expected = (per_pair * weights).sum() / weights.sum()
    from training.engine.objective import weighted_mean

    assert torch.allclose(weighted_mean(per_pair, weights), expected)


def test_auto_label_smoothing_comes_from_reviewer_agreement(make_config):
    pairs = rule_pairs(4, seed=0)
    for pair, agreement in zip(pairs, [0.9, 0.7, 0.8, 1.0], strict=True):
        pair.meta["agreement"] = agreement
    objective = Objective.from_config(make_config(loss_type="robust", label_smoothing="auto"), pairs)
    assert objective.label_smoothing == pytest.approx(0.15)
    for pair in pairs:
        pair.meta["agreement"] = 0.2
    assert Objective.from_config(make_config(loss_type="robust", label_smoothing="auto"), pairs).label_smoothing < 0.5


def test_gradient_checkpointing_trains_the_same_model(make_config, tmp_path):
    train = rule_pairs(16, seed=0)
    plain, checkpointed = Recorder(), Recorder()
    settings = dict(max_steps=2, num_samples=0)
    train_dpo(make_config(output_dir=str(tmp_path / "a"), **settings), train, [], plain)
    config = make_config(output_dir=str(tmp_path / "b"), gradient_checkpointing=True, **settings)
    train_dpo(config, train, [], checkpointed)
    for step in (1, 2):
        assert checkpointed.logged[step]["loss"] == pytest.approx(plain.logged[step]["loss"], abs=1e-5)


def test_tied_pairs_are_left_out_of_preference_losses(make_config, tmp_path):
    from tests.engine.conftest import tie_pairs

    train = rule_pairs(8, seed=0) + tie_pairs(2, seed=1)
    train_dpo(make_config(max_steps=1, num_samples=0), train, [], Recorder(), ties=tie_pairs(3, seed=2))
    resolved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert (resolved["num_train_pairs"], resolved["ties_ignored"]) == (8, 5)
    train_dpo(
        make_config(max_steps=1, num_samples=0, loss_type="davidson"), train, [], Recorder(), ties=tie_pairs(3, seed=2)
    )
    resolved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert (resolved["num_train_pairs"], resolved["ties_ignored"]) == (13, 0)


def test_resuming_on_different_data_is_refused(make_config):
    config = make_config(max_steps=4, num_samples=0)
    train_dpo(config, rule_pairs(8, seed=0), [], Recorder(stop_after=1))
    with pytest.raises(ValueError, match="trained on different data"):
        train_dpo(config, rule_pairs(8, seed=1), [], Recorder(), resume=True)


def test_kl_estimate_is_zero_while_the_adapter_equals_the_reference(tiny_model_dir, make_config):
    from training.engine.evaluate import kl_and_samples

    config = make_config()
    model, tokenizer = load_policy(tiny_model_dir, config)
    pairs = rule_pairs(4, seed=3)
    items, _ = tokenize_pairs(pairs, tokenizer, max_length=config.max_length, truncation_mode=config.truncation_mode)
    kl, _ = kl_and_samples(model, tokenizer, pairs, items, num_samples=2, max_new_tokens=6, seed=0)
    assert kl["per_sequence"] == pytest.approx(0.0, abs=1e-6)
