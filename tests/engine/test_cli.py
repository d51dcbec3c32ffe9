import json
import subprocess
import sys

import pytest

from tests.engine.conftest import rule_pairs, tie_pairs, write_jsonl
from training.engine import EngineConfig
from training.engine.cli import build_parser, config_from_args, main
from training.engine.settings_schema import SETTINGS


@pytest.fixture
def data(tmp_path):
    return {
        "train": write_jsonl(tmp_path / "train.jsonl", rule_pairs(16, seed=0)),
        "eval": write_jsonl(tmp_path / "test.jsonl", rule_pairs(4, seed=1)),
        "ties": write_jsonl(tmp_path / "ties.jsonl", tie_pairs(4, seed=2)),
    }


def test_train_command_writes_an_adapter_and_prints_the_result(tiny_model_dir, data, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        ["train", "--model", tiny_model_dir, "--train", str(data["train"]), "--eval", str(data["eval"])]
        + ["--ties", str(data["ties"]), "--out", str(out), "--loss", "rao_kupper,sft", "--loss-weights", "1,0.1"]
        + ["--max-steps", "2", "--batch-size", "4", "--lr", "1e-3", "--no-progress"]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "completed: step 2/2" in printed.out and "held-out preference accuracy" in printed.out
    assert "step 2: loss=" in printed.err
    resolved = json.loads((out / "config.json").read_text())
    assert resolved["loss_types"] == ["rao_kupper", "sft"] and resolved["num_train_pairs"] == 20
    assert (out / "adapter_model.safetensors").is_file()


def test_bad_arguments_are_reported_together_before_the_model_loads(tmp_path, data, capsys):
    code = main(
        ["train", "--model", str(tmp_path / "missing"), "--train", str(data["train"]), "--out", str(tmp_path / "o")]
        + ["--beta", "-1", "--loss", "dpo"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "error: model_dir:" in err and "error: beta: must be in (0, 10]" in err and "unknown loss 'dpo'" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_a_bad_data_file_names_the_line(tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a"}\n')
    code = main(["train", "--model", tiny_model_dir, "--train", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "bad.jsonl: line 2: missing chosen, rejected" in capsys.readouterr().err


def test_missing_required_flags_exit_with_usage():
    result = subprocess.run(
        [sys.executable, "-m", "training.engine", "train", "--model", "x"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "required: --train" in result.stderr


def test_a_missing_output_folder_is_named_when_neither_flag_nor_file_gives_it(tiny_model_dir, data, capsys):
    assert main(["train", "--model", tiny_model_dir, "--train", str(data["train"])]) == 2
    assert "error: output_dir: required" in capsys.readouterr().err


def _parsed(argv: list[str]) -> EngineConfig:
    return config_from_args(build_parser().parse_args(["train", "--train", "t.jsonl", *argv]))


def test_a_config_file_is_kept_where_no_flag_overrides_it(tiny_model_dir, tmp_path):
    file = tmp_path / "run.json"
    file.write_text(json.dumps({"beta": 0.5, "learning_rate": 1e-4, "lora_r": 4, "gradient_checkpointing": True}))
    config = _parsed(["--config", str(file), "--model", tiny_model_dir, "--out", str(tmp_path / "o"), "--lr", "2e-4"])
    assert config.beta == 0.5 and config.lora_r == 4 and config.gradient_checkpointing is True  # from the file
    assert config.learning_rate == 2e-4  # the flag given
    assert config.batch_size == SETTINGS["batch_size"].default  # neither: the schema's default


def test_flags_override_the_file_under_their_long_names_and_aliases(tiny_model_dir, tmp_path):
    file = tmp_path / "run.json"
    file.write_text(json.dumps({"model_dir": tiny_model_dir, "output_dir": str(tmp_path / "o"), "beta": 0.5}))
    config = _parsed(
        ["--config", str(file), "--beta", "0.2", "--loss", "robust,sft", "--loss-weights", "1,0.1"]
        + ["--label-smoothing", "auto", "--grad-accum", "3", "--no-share-prompt", "--max-steps", "none"]
    )
    assert (config.beta, config.loss_type, config.loss_weights) == (0.2, ["robust", "sft"], [1.0, 0.1])
    assert config.label_smoothing == "auto" and config.grad_accum_steps == 3 and config.share_prompt is False
    assert config.max_steps is None
    assert _parsed(["--config", str(file), "--learning-rate", "1e-3", "--loss-type", "ipo"]).learning_rate == 1e-3


def test_every_setting_has_a_flag():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    flags = {option for action in train._actions for option in action.option_strings}
    assert {setting.flag for setting in SETTINGS.values()} <= flags
    assert {"--lr", "--loss", "--grad-accum", "--model", "--out"} <= flags


def test_an_out_of_range_flag_is_refused_with_the_schemas_reason(tiny_model_dir, data, tmp_path, capsys):
    code = main(
        ["train", "--model", tiny_model_dir, "--train", str(data["train"]), "--out", str(tmp_path / "o")]
        + ["--beta", "1e9", "--lr", "10"]
    )
    err = capsys.readouterr().err
    assert (
        code == 2 and "error: beta: must be in (0, 10]" in err and "error: learning_rate: must be in (0, 0.01]" in err
    )


def test_make_tiny_model_command_writes_a_loadable_model(tmp_path, capsys):
    assert main(["make-tiny-model", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "config.json").is_file() and (tmp_path / "m" / "tokenizer.json").is_file()
    assert "wrote a tiny model" in capsys.readouterr().out
