import json
import subprocess
import sys

import pytest

from tests.engine.conftest import rule_pairs, tie_pairs, write_jsonl
from training.engine.cli import main


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
    assert result.returncode == 2 and "required: --train, --out" in result.stderr


def test_make_tiny_model_command_writes_a_loadable_model(tmp_path, capsys):
    assert main(["make-tiny-model", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "config.json").is_file() and (tmp_path / "m" / "tokenizer.json").is_file()
    assert "wrote a tiny model" in capsys.readouterr().out
