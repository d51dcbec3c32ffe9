"""Batched sampling on the tiny model: batching never changes greedy answers, seeds fix sampled ones."""

from __future__ import annotations

import os

import pytest
import torch

from training.engine.digest import CACHE_FILE, model_digest
from training.engine.generate import load_generator, prompt_token_ids, sample_completions
from training.engine.sampling import SamplingSettings

# Prompts of different lengths (so a batch is left-padded), text and chat.
PROMPTS = [
    "the cat",
    "Q: what is red? A:",
    [{"role": "user", "content": "hello there, which fruit is yellow?"}],
    "a",
    "one two three four five six seven eight nine ten eleven twelve",
    [{"role": "system", "content": "Be short."}, {"role": "user", "content": "Name a pet."}],
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_generator(tiny_model_dir, device="cpu")


def _greedy(max_new_tokens: int = 10) -> SamplingSettings:
    return SamplingSettings(samples=1, temperature=0.0, max_new_tokens=max_new_tokens)


def test_batched_greedy_equals_one_prompt_at_a_time(tiny):
    model, tokenizer = tiny
    batched = sample_completions(model, tokenizer, PROMPTS, _greedy(), batch_size=16)
    for index, prompt in enumerate(PROMPTS):
        [alone] = sample_completions(model, tokenizer, [prompt], _greedy(), batch_size=1)
        assert batched[index].token_ids == alone.token_ids, prompt
        assert batched[index].text == alone.text


def test_greedy_answers_are_what_a_full_forward_pass_predicts(tiny):
    # Guards the KV-cache path itself: each token is the argmax given the prompt and the tokens before it.
    model, tokenizer = tiny
    [done] = sample_completions(model, tokenizer, [PROMPTS[2]], _greedy(6))
    ids = prompt_token_ids(PROMPTS[2], tokenizer)
    for token in done.token_ids:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
        assert int(logits.argmax()) == token
        ids.append(token)


def test_same_seed_gives_the_same_samples_whatever_the_batch_size(tiny):
    model, tokenizer = tiny
    settings = SamplingSettings(samples=3, temperature=1.0, top_p=0.9, max_new_tokens=8, seed=5)
    first = [c.text for c in sample_completions(model, tokenizer, PROMPTS, settings, batch_size=16)]
    again = [c.text for c in sample_completions(model, tokenizer, PROMPTS, settings, batch_size=4)]
    other_seed = SamplingSettings(samples=3, temperature=1.0, top_p=0.9, max_new_tokens=8, seed=6)
    other = [c.text for c in sample_completions(model, tokenizer, PROMPTS, other_seed, batch_size=16)]
    assert first == again
    assert first != other
    assert len(set(first[:3])) > 1  # one prompt's samples differ from each other


def test_completions_come_in_prompt_then_sample_order(tiny):
    model, tokenizer = tiny
    settings = SamplingSettings(samples=2, temperature=0.7, max_new_tokens=3)
    done = sample_completions(model, tokenizer, PROMPTS, settings, batch_size=5)
    assert [(c.prompt_index, c.sample_index) for c in done] == [(p, s) for p in range(len(PROMPTS)) for s in (0, 1)]


def test_each_sequence_stops_at_its_own_end_token(tiny):
    model, tokenizer = tiny
    free = sample_completions(model, tokenizer, PROMPTS, _greedy(8))
    # Make a later greedy token of the first prompt an end token: that answer stops there, the others run on.
    ids = free[0].token_ids
    cut = next(i for i in range(1, len(ids)) if ids[i] not in ids[:i])
    done = sample_completions(model, tokenizer, PROMPTS, _greedy(8), stop_ids={ids[cut]})
    assert (done[0].finish_reason, done[0].token_ids, done[0].stop_token) == ("eos", ids[:cut], ids[cut])
    unaffected = [(b, a) for b, a in zip(free[1:], done[1:], strict=True) if ids[cut] not in b.token_ids]
    assert unaffected
    for before, after in unaffected:
        assert (after.finish_reason, after.token_ids, len(after.token_ids)) == ("length", before.token_ids, 8)


def test_an_answer_that_stops_at_once_is_kept_empty(tiny):
    model, tokenizer = tiny
    first = sample_completions(model, tokenizer, PROMPTS[:1], _greedy())[0].token_ids[0]
    [done] = sample_completions(model, tokenizer, PROMPTS[:1], _greedy(), stop_ids={first})
    assert (done.text, done.token_ids, done.finish_reason) == ("", [], "eos")


def test_bad_settings_are_refused_before_generating(tiny):
    model, tokenizer = tiny
    with pytest.raises(ValueError, match="temperature: must be 0"):
        sample_completions(model, tokenizer, PROMPTS, SamplingSettings(temperature=-0.1))
    assert SamplingSettings(samples=0, top_p=0.0, max_new_tokens=0).problems() == [
        "samples: must be at least 1, got 0",
        "top_p: must be in (0, 1], got 0.0",
        "max_new_tokens: must be at least 1, got 0",
    ]


def test_model_digest_is_computed_once_and_follows_changes(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    first = model_digest(tmp_path)
    assert (tmp_path / CACHE_FILE).is_file()
    stat = weights.stat()
    weights.write_bytes(b"WEIGHTS")  # same size, and the old modification time put back: the cache is trusted
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model_digest(tmp_path) == first
    weights.write_bytes(b"new weights")
    assert model_digest(tmp_path) != first


def test_on_batch_hears_each_finished_batch_and_can_stop_the_rest(tiny):
    model, tokenizer = tiny
    settings = SamplingSettings(samples=2, temperature=0.7, max_new_tokens=3)
    heard: list[tuple[int, int]] = []
    sample_completions(model, tokenizer, PROMPTS, settings, batch_size=5, on_batch=lambda d, t: heard.append((d, t)))
    assert heard == [(5, 12), (10, 12), (12, 12)]

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        sample_completions(model, tokenizer, PROMPTS, settings, batch_size=5, on_batch=stop)
