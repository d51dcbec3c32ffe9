import json

import pytest
import torch
from transformers import AutoTokenizer

from tests.engine.conftest import rule_pairs, write_jsonl
from training.engine import PreferencePair, load_pairs
from training.engine.data import collate, length_grouped_batches, tokenize_pair, tokenize_pairs


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_it_reads_standard_and_conversational_jsonl_with_meta(tmp_path):
    path = tmp_path / "train.jsonl"
    rows = [
        {
            "prompt": "Q?",
            "chosen": " yes",
            "rejected": " no",
            "meta": {"weight": 2.5, "locale": "en-US", "tags": ["x"]},
        },
        {
            "prompt": [{"role": "user", "content": "hi"}],
            "chosen": [{"role": "assistant", "content": "hello"}],
            "rejected": [{"role": "assistant", "content": "go away"}],
            "tie": True,
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    first, second = load_pairs(path)
    assert (first.prompt, first.weight, first.meta["locale"], first.is_tie) == ("Q?", 2.5, "en-US", False)
    assert second.conversational and second.is_tie
    assert all(p.is_tie for p in load_pairs(path, is_tie=True))


def test_export_round_trips_through_to_json(tmp_path):
    pairs = rule_pairs(4, seed=0) + rule_pairs(2, seed=1, conversational=True)
    assert load_pairs(write_jsonl(tmp_path / "p.jsonl", pairs)) == pairs


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"prompt": "a", "chosen": "b"}', "line 2: missing rejected"),
        ('{"prompt": "a", "chosen": ["b"], "rejected": "c"}', "line 2: chosen: the prompt is a string"),
        ('{"prompt": [{"role": "user"}], "chosen": [], "rejected": []}', "line 2: prompt\\[0\\]: each message needs"),
        ('{"prompt": "a", "chosen": "b", "rejected": "c", "meta": {"weight": -1}}', "line 2: meta.weight"),
        ('{"prompt": "a", "chosen": "b", "rejected": "c", "tie": "yes"}', "line 2: tie: expected true or false"),
    ],
)
def test_bad_files_name_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n' + line + "\n")
    with pytest.raises(ValueError, match=message):
        load_pairs(path)


def test_missing_and_empty_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_pairs(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ValueError, match="contains no pairs"):
        load_pairs(tmp_path / "empty.jsonl")


def test_standard_pairs_get_one_eos_and_the_prompt_is_masked(tokenizer):
    eos = tokenizer.eos_token
    item = tokenize_pair(PreferencePair("Q: bird", " bear", " swim" + eos), tokenizer, max_length=None)
    prompt_ids = tokenizer("Q: bird")["input_ids"]
    assert item.chosen_ids == tokenizer("Q: bird bear" + eos)["input_ids"]
    assert item.rejected_ids == tokenizer("Q: bird swim" + eos)["input_ids"]  # not a second EOS
    assert item.chosen_ids[-1] == tokenizer.eos_token_id
    assert item.chosen_mask == [0] * len(prompt_ids) + [1] * (len(item.chosen_ids) - len(prompt_ids))


def test_conversational_pairs_use_the_chat_template_with_generation_prompt(tokenizer):
    prompt = [{"role": "user", "content": "bird"}]
    pair = PreferencePair(prompt, [{"role": "assistant", "content": "bear"}], [{"role": "assistant", "content": "x"}])
    item = tokenize_pair(pair, tokenizer, max_length=None)
    prompt_ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)
    n = len(prompt_ids["input_ids"])
    assert item.prompt_len == n and item.chosen_ids[:n] == prompt_ids["input_ids"]
    completion = tokenizer.decode([t for t, m in zip(item.chosen_ids, item.chosen_mask, strict=True) if m])
    assert completion == "bear<|im_end|>\n"


def test_keep_start_truncates_the_completion_end_and_keep_end_the_prompt_start(tokenizer):
    pair = PreferencePair("a or an a or an", " bird bear tree table black", " swim speak")
    full = tokenize_pair(pair, tokenizer, max_length=None)
    start = tokenize_pair(pair, tokenizer, max_length=full.prompt_len + 2, truncation_mode="keep_start")
    end = tokenize_pair(pair, tokenizer, max_length=4, truncation_mode="keep_end")
    assert start.chosen_ids == full.chosen_ids[: full.prompt_len + 2]
    assert start.chosen_mask[-2:] == [1, 1] and sum(start.chosen_mask) == 2
    assert end.chosen_ids == full.chosen_ids[-4:] and end.rejected_ids == full.rejected_ids[-4:]
    assert end.rejected_mask == full.rejected_mask[-4:]


def test_pairs_whose_prompt_fills_max_length_are_dropped_and_counted(tokenizer):
    long_prompt = PreferencePair("a " * 40, " bird", " swim")
    short = PreferencePair("a", " bird", " swim")
    items, dropped = tokenize_pairs([long_prompt, short, long_prompt], tokenizer, max_length=10)
    assert dropped == 2 and [it.index for it in items] == [1]
    # keep_end keeps the completion, so nothing is dropped (as in TRL)
    items, dropped = tokenize_pairs([long_prompt], tokenizer, max_length=10, truncation_mode="keep_end")
    assert dropped == 0 and len(items[0].chosen_ids) == 10


def test_collate_puts_chosen_rows_first_then_rejected_in_one_padded_batch(tokenizer):
    items, _ = tokenize_pairs(rule_pairs(3, seed=0), tokenizer, max_length=None)
    items[1].weight, items[2].is_tie = 0.5, True
    batch = collate(items, pad_token_id=tokenizer.pad_token_id)
    width = max(len(it.chosen_ids) for it in items + items)
    assert batch["input_ids"].shape == (6, width)
    for row, ids in enumerate([it.chosen_ids for it in items] + [it.rejected_ids for it in items]):
        assert batch["input_ids"][row, : len(ids)].tolist() == ids
        assert batch["attention_mask"][row].sum() == len(ids)
    assert batch["weight"].tolist() == [1.0, 0.5, 1.0]
    assert batch["is_tie"].tolist() == [False, False, True]
    assert "ref_chosen_logps" not in batch


def test_length_grouped_batches_cover_every_pair_and_repeat_per_seed_and_epoch(tokenizer):
    pairs = [PreferencePair("a " * (i % 7 + 1), " bird", " swim") for i in range(50)]
    items, _ = tokenize_pairs(pairs, tokenizer, max_length=None)
    batches = length_grouped_batches(items, 4, seed=3, epoch=0, group_size=4)
    assert sorted(i for b in batches for i in b) == list(range(50))
    assert batches == length_grouped_batches(items, 4, seed=3, epoch=0, group_size=4)
    assert batches != length_grouped_batches(items, 4, seed=3, epoch=1, group_size=4)
    spread = [max(items[i].length for i in b) - min(items[i].length for i in b) for b in batches]
    assert sum(spread) / len(spread) <= 1.5


def test_collate_carries_precomputed_reference_logps(tokenizer):
    items, _ = tokenize_pairs(rule_pairs(2, seed=0), tokenizer, max_length=None)
    for it in items:
        it.ref_chosen_logp, it.ref_rejected_logp = -1.0, -2.0
    batch = collate(items, pad_token_id=0)
    assert torch.equal(batch["ref_rejected_logps"], torch.tensor([-2.0, -2.0]))
