"""Batched sampling from a base model, or a base model with a LoRA adapter.

Sequences (prompt × sample) go through the model in batches of up to `batch_size`. Each batch's distinct prompts
are run once, left-padded, and their KV cache rows are repeated for the samples; then one forward per new token
advances every unfinished sequence of the batch. A sequence that emits an end token leaves the batch (its cache
rows are dropped), so a short answer costs the long ones nothing.

Each sequence draws from its own `torch.Generator`, seeded from (seed, prompt index, sample index): the same seed
gives the same text whatever the batch size or the order in which sequences finish.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from training.engine.prompts import PromptRow, candidate_id, model_version
from training.engine.sampling import SamplingSettings

Prompt = str | list[dict[str, str]]


@dataclass
class Completion:
    prompt_index: int
    sample_index: int
    token_ids: list[int]  # the answer's tokens, without the end token
    text: str
    finish_reason: str  # "eos" (an end token) or "length" (max_new_tokens reached)
    stop_token: int | None  # the end token it stopped on


def prompt_token_ids(prompt: Prompt, tokenizer) -> list[int]:
    """A text prompt is tokenized as it is (as training reads it); a conversation goes through the chat template."""
    if isinstance(prompt, list):
        rendered = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)
        return list(rendered["input_ids"])
    return list(tokenizer(text=prompt)["input_ids"])


def stop_token_ids(model, tokenizer) -> set[int]:
    """End tokens: the generation config's (one id or a list) and the tokenizer's."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [configured])
    ids.add(tokenizer.eos_token_id)
    return {int(i) for i in ids if i is not None}


def _generator(seed: int, prompt_index: int, sample_index: int) -> torch.Generator:
    material = hashlib.sha256(f"{seed}:{prompt_index}:{sample_index}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(material[:8], "little") & ((1 << 63) - 1))


def _next_tokens(logits: torch.Tensor, settings: SamplingSettings, generators: list[torch.Generator]) -> list[int]:
    """One token per row of logits (A, V): argmax at temperature 0, else a nucleus (top-p) sample.

    Nucleus: keep the most likely tokens whose cumulative probability, before adding each, is below top_p (so the
    most likely token always stays), renormalise, draw. Draws happen on the CPU with each row's own generator.
    """
    if settings.temperature == 0:
        return logits.argmax(dim=-1).tolist()
    probs = torch.softmax(logits.float() / settings.temperature, dim=-1)
    if settings.top_p < 1:
        probs, order = probs.sort(dim=-1, descending=True)
        probs = probs.masked_fill(probs.cumsum(dim=-1) - probs >= settings.top_p, 0.0)
    else:
        order = None
    probs = probs.cpu()
    picks = [int(torch.multinomial(probs[row], 1, generator=g)) for row, g in enumerate(generators)]
    if order is None:
        return picks
    order = order.cpu()
    return [int(order[row, pick]) for row, pick in enumerate(picks)]


def _left_padded(prompts: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        if prompt:
            ids[row, width - len(prompt) :] = torch.tensor(prompt)
            mask[row, width - len(prompt) :] = 1
    return ids.to(device), mask.to(device)


def _run_batch(
    model,
    prompts: list[list[int]],
    sequences: list[tuple[int, int]],
    settings: SamplingSettings,
    *,
    stop_ids: set[int],
    pad_id: int,
) -> dict[tuple[int, int], tuple[list[int], int | None]]:
    """Generate every (prompt index, sample index) of one batch: {sequence: (answer tokens, end token or None)}."""
    device = next(model.parameters()).device
    distinct = sorted({p for p, _ in sequences})
    row_of = {p: row for row, p in enumerate(distinct)}
    ids, mask = _left_padded([prompts[p] for p in distinct], pad_id, device)
    # Left padding: each prompt's positions count from its first real token, and padding is masked out.
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    rows = torch.tensor([row_of[p] for p, _ in sequences], device=device)
    cache = out.past_key_values
    cache.batch_select_indices(rows)  # repeat each prompt's cache for its samples
    logits, mask, next_position = out.logits[rows, -1], mask[rows], positions[rows, -1] + 1
    active = list(sequences)
    generators = [_generator(settings.seed, p, s) for p, s in active]
    tokens: dict[tuple[int, int], list[int]] = {seq: [] for seq in sequences}
    finished: dict[tuple[int, int], tuple[list[int], int | None]] = {}
    for step in range(settings.max_new_tokens):
        picks = _next_tokens(logits, settings, generators)
        keep = []
        for row, (seq, token) in enumerate(zip(active, picks, strict=True)):
            if token in stop_ids:
                finished[seq] = (tokens[seq], token)
                continue
            tokens[seq].append(token)
            keep.append(row)
        if not keep or step == settings.max_new_tokens - 1:
            break
        if len(keep) < len(active):
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            mask, next_position = mask[index], next_position[index]
            active, generators = [active[r] for r in keep], [generators[r] for r in keep]
            picks = [picks[r] for r in keep]
        mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
        out = model(
            input_ids=torch.tensor(picks, device=device)[:, None],
            attention_mask=mask,
            position_ids=next_position[:, None],
            past_key_values=cache,
            use_cache=True,
        )
        logits, next_position = out.logits[:, -1], next_position + 1
    for seq in sequences:
        finished.setdefault(seq, (tokens[seq], None))
    return finished


@torch.no_grad()
def sample_completions(
    model,
    tokenizer,
    prompts: list[Prompt],
    settings: SamplingSettings,
    *,
    batch_size: int = 16,
    stop_ids: set[int] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> list[Completion]:
    """`settings.samples` completions of every prompt, in prompt then sample order.

    Works on a plain model or a PEFT model (inside `with model.disable_adapter():` for its base). Prompts of similar
    length share a batch, so little of a batch is padding. `on_batch(done, total)` hears of each finished batch (in
    sequences); it may raise to stop.
    """
    problems = settings.problems()
    if problems:
        raise ValueError("; ".join(problems))
    if batch_size < 1:
        raise ValueError(f"batch_size: must be at least 1, got {batch_size}")
    stop_ids = stop_token_ids(model, tokenizer) if stop_ids is None else stop_ids
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stop_ids)
    token_ids = [prompt_token_ids(prompt, tokenizer) for prompt in prompts]
    by_length = sorted(range(len(prompts)), key=lambda p: len(token_ids[p]))
    sequences = [(p, s) for p in by_length for s in range(settings.samples)]
    was_training = model.training
    model.eval()
    results: dict[tuple[int, int], tuple[list[int], int | None]] = {}
    try:
        for start in range(0, len(sequences), batch_size):
            batch = sequences[start : start + batch_size]
            results.update(_run_batch(model, token_ids, batch, settings, stop_ids=stop_ids, pad_id=pad_id))
            if on_batch is not None:
                on_batch(len(results), len(sequences))
    finally:
        model.train(was_training)
    completions = []
    for p in range(len(prompts)):
        for s in range(settings.samples):
            answer, stop = results[(p, s)]
            text = tokenizer.decode(answer, skip_special_tokens=True)
            completions.append(Completion(p, s, answer, text, "length" if stop is None else "eos", stop))
    return completions


def load_generator(model_dir: str, adapter_dir: str | None = None, *, device: str = "auto"):
    """(model, tokenizer) ready to sample: fp32 on CPU, bf16 on CUDA; an adapter is merged into the weights."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.engine.model import resolve_device

    target = resolve_device(device)
    dtype = torch.bfloat16 if target.type == "cuda" else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    if adapter_dir:
        from peft import PeftModel

        # Merged, the adapter costs nothing per token; sampling never needs the base model back.
        model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
    return model.to(target).eval(), tokenizer


def generate_rows(
    model,
    tokenizer,
    rows: list[PromptRow],
    settings: SamplingSettings,
    *,
    model_name: str,
    base_sha256: str,
    adapter_sha256: str | None = None,
    batch_size: int = 16,
    on_batch: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Import rows: each prompt row's own fields with its samples as `candidates` (empty answers included)."""
    version = model_version(base_sha256, adapter_sha256)
    prompts = [row.prompt for row in rows]
    completions = sample_completions(model, tokenizer, prompts, settings, batch_size=batch_size, on_batch=on_batch)
    out = [{**row.fields, "candidates": []} for row in rows]
    for done in completions:
        row = rows[done.prompt_index]
        meta = {
            **settings.to_json(),
            "sample": done.sample_index,
            "finish_reason": done.finish_reason,
            "tokens": len(done.token_ids),
            "base_model_sha256": base_sha256,
            "adapter_sha256": adapter_sha256,
        }
        out[done.prompt_index]["candidates"].append(
            {
                "id": candidate_id(row.id, version, done.sample_index),
                "text": done.text,
                "model": model_name,
                "model_version": version,
                "meta": meta,
            }
        )
    return out
