import pytest
import torch

from tests.engine.conftest import rule_pairs
from training.engine import PreferencePair
from training.engine.data import collate, tokenize_pairs
from training.engine.model import _prompt_lengths, load_policy, sequence_logps


@pytest.fixture
def policy(make_config, tiny_model_dir):
    model, tokenizer = load_policy(tiny_model_dir, make_config())
    with torch.no_grad():  # a non-trivial adapter, so the policy differs from the reference
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.1, generator=torch.Generator().manual_seed(0))
    return model, tokenizer


def _grads(model, loss):
    model.zero_grad()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def test_sharing_the_prompt_gives_the_same_logps_and_gradients(policy):
    model, tokenizer = policy
    pairs = rule_pairs(3, seed=0) + rule_pairs(2, seed=1, conversational=True)
    pairs.append(PreferencePair("a or an a or an a", " bird bear tree table black bird", " swim"))
    items, _ = tokenize_pairs(pairs, tokenizer, max_length=None)
    batch = collate(items, tokenizer.pad_token_id)
    full = sequence_logps(model, batch)
    shared = sequence_logps(model, batch, share_prompt=True)
    for a, b in zip(full, shared, strict=True):
        assert torch.allclose(a.float(), b.float(), atol=1e-4, rtol=1e-5)
    grads_full = _grads(model, full[0].sum() + full[2])
    grads_shared = _grads(model, sequence_logps(model, batch, share_prompt=True)[0].sum() + shared[2])
    assert torch.allclose(grads_full, grads_shared, atol=1e-4, rtol=1e-4)


def test_pairs_whose_prompts_were_truncated_differently_are_not_shared(policy):
    _, tokenizer = policy
    pair = PreferencePair("a or an " * 4, " bird bear tree table black", " swim")
    items, _ = tokenize_pairs([pair], tokenizer, max_length=8, truncation_mode="keep_end")
    batch = collate(items, tokenizer.pad_token_id)
    assert _prompt_lengths(batch["input_ids"], batch["completion_mask"]) is None
    items, _ = tokenize_pairs([pair], tokenizer, max_length=None)
    batch = collate(items, tokenizer.pad_token_id)
    assert _prompt_lengths(batch["input_ids"], batch["completion_mask"]).tolist() == [items[0].prompt_len]


def test_chunked_lm_head_gives_the_same_logps_and_gradients(policy, monkeypatch):
    from training.engine import model as model_module

    model, tokenizer = policy
    items, _ = tokenize_pairs(rule_pairs(4, seed=0), tokenizer, max_length=None)
    batch = collate(items, tokenizer.pad_token_id)
    whole = sequence_logps(model, batch)
    grads_whole = _grads(model, whole[0].sum())
    monkeypatch.setattr(model_module, "LOGITS_CHUNK_ELEMENTS", 3 * len(tokenizer))  # three positions per chunk
    chunked = sequence_logps(model, batch)
    grads_chunked = _grads(model, chunked[0].sum())
    assert torch.allclose(whole[0], chunked[0], atol=1e-5)
    assert torch.allclose(grads_whole, grads_chunked, atol=1e-5)
