"""Preference pairs: reading TRL preference JSONL, tokenizing as TRL 1.16's DPOTrainer does, and batching.

A batch holds the chosen rows first and the rejected rows second, so one forward pass scores both (shape 2B × L).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

Messages = list[dict[str, Any]]


@dataclass
class PreferencePair:
    prompt: str | Messages
    chosen: str | Messages
    rejected: str | Messages
    weight: float = 1.0
    is_tie: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def conversational(self) -> bool:
        return isinstance(self.prompt, list)

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"prompt": self.prompt, "chosen": self.chosen, "rejected": self.rejected}
        meta = {**self.meta, "weight": self.weight} if self.weight != 1.0 else self.meta
        if meta:
            row["meta"] = meta
        if self.is_tie:
            row["tie"] = True
        return row


@dataclass
class TokenizedPair:
    """One pair as two token sequences (prompt + completion, already truncated) with completion masks."""

    chosen_ids: list[int]
    chosen_mask: list[int]
    rejected_ids: list[int]
    rejected_mask: list[int]
    prompt_len: int
    index: int = 0
    weight: float = 1.0
    is_tie: bool = False
    ref_chosen_logp: float | None = None
    ref_rejected_logp: float | None = None

    @property
    def length(self) -> int:
        return max(len(self.chosen_ids), len(self.rejected_ids))

    @property
    def completion_length(self) -> int:
        return self.length - self.prompt_len


def _check_messages(value: Any, name: str) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{name}: expected a non-empty list of messages"
    for i, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return f"{name}[{i}]: each message needs a string 'role'"
        if not isinstance(message.get("content"), str):
            return f"{name}[{i}]: each message needs a string 'content'"
    return None


def _pair_from_row(row: Any, *, is_tie: bool) -> PreferencePair:
    """Parse one JSONL row; raises ValueError with a message naming the bad field."""
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object with prompt, chosen and rejected")
    missing = [k for k in ("prompt", "chosen", "rejected") if k not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    prompt, chosen, rejected = row["prompt"], row["chosen"], row["rejected"]
    if isinstance(prompt, str):
        for name, value in (("chosen", chosen), ("rejected", rejected)):
            if not isinstance(value, str):
                raise ValueError(f"{name}: the prompt is a string, so {name} must be a string too")
    elif isinstance(prompt, list):
        for name, value in (("prompt", prompt), ("chosen", chosen), ("rejected", rejected)):
            problem = _check_messages(value, name)
            if problem:
                raise ValueError(problem)
    else:
        raise ValueError("prompt: expected a string or a list of chat messages")
    meta = row.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError("meta: expected an object")
    weight = meta.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
        raise ValueError(f"meta.weight: expected a number >= 0, got {weight!r}")
    tie = row.get("tie", False)
    if not isinstance(tie, bool):
        raise ValueError(f"tie: expected true or false, got {tie!r}")
    return PreferencePair(
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        weight=float(weight),
        is_tie=tie or is_tie,
        meta=dict(meta),
    )


def load_pairs(path: str | Path, *, is_tie: bool = False) -> list[PreferencePair]:
    """Read TRL preference JSONL (standard or conversational). `is_tie=True` marks every pair as a tie."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                pairs.append(_pair_from_row(json.loads(line), is_tie=is_tie))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None
            except ValueError as exc:
                raise ValueError(f"{path}: line {number}: {exc}") from None
    if not pairs:
        raise ValueError(f"{path}: contains no pairs")
    return pairs


def pairs_sha256(pairs: list[PreferencePair]) -> str:
    """A digest of the data as trained on: order, texts, weights and tie flags."""
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(json.dumps(pair.to_json(), sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _common_prefix_length(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _chat_ids(tokenizer, messages: Messages, **kwargs) -> list[int]:
    # transformers 5 returns a BatchEncoding-like dict from apply_chat_template.
    return list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True, **kwargs)["input_ids"])


def tokenize_pair(
    pair: PreferencePair, tokenizer, *, max_length: int | None, truncation_mode: str = "keep_start"
) -> TokenizedPair | None:
    """Tokenize like TRL 1.16: None when the prompt alone leaves no room for a completion (dropped, counted).

    Conversational pairs go through the chat template (the prompt with the generation prompt); standard pairs get
    the EOS token appended to each completion. The completion starts where the tokenized prompt and the tokenized
    prompt + completion first differ. Each sequence is then truncated to `max_length`.
    """
    if pair.conversational:
        prompt_ids = _chat_ids(tokenizer, pair.prompt, add_generation_prompt=True)
        chosen_full = _chat_ids(tokenizer, pair.prompt + pair.chosen)
        rejected_full = _chat_ids(tokenizer, pair.prompt + pair.rejected)
    else:
        eos = tokenizer.eos_token
        chosen = pair.chosen if pair.chosen.endswith(eos) else pair.chosen + eos
        rejected = pair.rejected if pair.rejected.endswith(eos) else pair.rejected + eos
        prompt_ids = list(tokenizer(text=pair.prompt)["input_ids"])
        chosen_full = list(tokenizer(text=pair.prompt + chosen)["input_ids"])
        rejected_full = list(tokenizer(text=pair.prompt + rejected)["input_ids"])
    prompt_len = min(_common_prefix_length(prompt_ids, chosen_full), _common_prefix_length(prompt_ids, rejected_full))
    # TRL drops these: keep_start truncation would leave no completion token to learn from.
    if max_length is not None and truncation_mode == "keep_start" and prompt_len >= max_length:
        return None
    chosen_mask = [0] * prompt_len + [1] * (len(chosen_full) - prompt_len)
    rejected_mask = [0] * prompt_len + [1] * (len(rejected_full) - prompt_len)
    chosen_ids = prompt_ids[:prompt_len] + chosen_full[prompt_len:]
    rejected_ids = prompt_ids[:prompt_len] + rejected_full[prompt_len:]
    if max_length is not None:
        if truncation_mode == "keep_start":
            window = slice(None, max_length)
        elif truncation_mode == "keep_end":
            window = slice(-max_length, None)
        else:
            raise ValueError(f"truncation_mode: {truncation_mode!r} is not keep_start or keep_end")
        chosen_ids, chosen_mask = chosen_ids[window], chosen_mask[window]
        rejected_ids, rejected_mask = rejected_ids[window], rejected_mask[window]
    return TokenizedPair(
        chosen_ids=chosen_ids,
        chosen_mask=chosen_mask,
        rejected_ids=rejected_ids,
        rejected_mask=rejected_mask,
        prompt_len=prompt_len,
        weight=pair.weight,
        is_tie=pair.is_tie,
    )


def tokenize_pairs(
    pairs: list[PreferencePair], tokenizer, *, max_length: int | None, truncation_mode: str = "keep_start"
) -> tuple[list[TokenizedPair], int]:
    """Tokenize every pair; returns the kept items (with `index` into `pairs`) and how many were dropped."""
    items = []
    for index, pair in enumerate(pairs):
        item = tokenize_pair(pair, tokenizer, max_length=max_length, truncation_mode=truncation_mode)
        if item is not None:
            item.index = index
            items.append(item)
    return items, len(pairs) - len(items)


def _pad(rows: list[list[int]], value: int, width: int) -> torch.Tensor:
    return torch.tensor([row + [value] * (width - len(row)) for row in rows], dtype=torch.long)


def collate(items: list[TokenizedPair], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-pad B pairs into one 2B-row batch: rows 0..B-1 are the chosen sequences, rows B..2B-1 the rejected."""
    ids = [it.chosen_ids for it in items] + [it.rejected_ids for it in items]
    masks = [it.chosen_mask for it in items] + [it.rejected_mask for it in items]
    width = max(len(row) for row in ids)
    batch = {
        "input_ids": _pad(ids, pad_token_id, width),
        "attention_mask": _pad([[1] * len(row) for row in ids], 0, width),
        "completion_mask": _pad(masks, 0, width),
        "weight": torch.tensor([it.weight for it in items], dtype=torch.float32),
        "is_tie": torch.tensor([it.is_tie for it in items], dtype=torch.bool),
        "index": torch.tensor([it.index for it in items], dtype=torch.long),
    }
    if all(it.ref_chosen_logp is not None for it in items):
        batch["ref_chosen_logps"] = torch.tensor([it.ref_chosen_logp for it in items], dtype=torch.float32)
        batch["ref_rejected_logps"] = torch.tensor([it.ref_rejected_logp for it in items], dtype=torch.float32)
    return batch


def length_grouped_batches(
    items: list[TokenizedPair],
    batch_size: int,
    *,
    seed: int,
    epoch: int,
    group_size: int = 32,
    by_completion: bool = False,
) -> list[list[int]]:
    """Shuffled batches (positions into `items`) whose pairs have similar lengths, so padding stays small.

    The order depends only on (seed, epoch): a resumed run sees exactly the batches the original run would have.
    Positions are shuffled, cut into groups of `group_size` batches, sorted by length inside each group, cut into
    batches, and the batches are shuffled again. `by_completion` sorts by the longest completion instead of the
    longest sequence: with a shared prompt pass, the completion rows are where padding costs twice.
    """
    key = (lambda i: items[i].completion_length) if by_completion else (lambda i: items[i].length)
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(items)))
    rng.shuffle(order)
    span = batch_size * group_size
    batches = []
    for start in range(0, len(order), span):
        group = sorted(order[start : start + span], key=key, reverse=True)
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def sequential_batches(items: list[TokenizedPair], batch_size: int) -> list[list[int]]:
    """Batches in a fixed order, grouped by length (for evaluation and reference passes)."""
    order = sorted(range(len(items)), key=lambda i: items[i].length, reverse=True)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
