"""Answer log-probs under a base model: what a pair's implicit reference margin is made of.

For each (prompt, answer) row: log p(answer | prompt) summed over the answer's tokens, and how many tokens that is.
A pair's margin is then logp(majority's answer) − logp(other answer), summed or per token (a difference of means),
so that "the reference already separates them" can be told apart from "one answer is shorter".

Rows are tokenized exactly as training tokenizes a pair (`data.tokenize_pair`, with the answer on both sides) and
scored with training's own `model.sequence_logps`, so the numbers are the DPO reference log-probs of those answers.
When the tokenizer has a chat template, a text prompt becomes one user message and the answer the assistant's reply
(as a conversational export writes them); without one, prompt and answer are plain text with the end token appended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from training.engine.data import PreferencePair, TokenizedPair, tokenize_pair
from training.engine.model import resolve_device, sequence_logps

Prompt = str | list[dict[str, Any]]


@dataclass(frozen=True)
class AnswerRow:
    prompt: Prompt  # text, or chat messages [{role, content}]
    answer: str


@dataclass(frozen=True)
class AnswerLogp:
    logp_sum: float  # summed log-prob of the answer's tokens given the prompt (nats, ≤ 0)
    tokens: int  # how many answer tokens were scored (the end token included)

    @property
    def logp_per_token(self) -> float:
        return self.logp_sum / self.tokens if self.tokens else 0.0


def load_scorer(model_dir: str, *, device: str = "auto", dtype: torch.dtype = torch.float32):
    """The base model in eval mode and its tokenizer (pad token set): (model, tokenizer)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(resolve_device(device))
    model.eval()
    model.config.use_cache = False
    return model, tokenizer


def _as_pair(row: AnswerRow, chat: bool) -> PreferencePair:
    if chat:
        prompt = row.prompt if isinstance(row.prompt, list) else [{"role": "user", "content": row.prompt}]
        answer = [{"role": "assistant", "content": row.answer}]
        return PreferencePair(prompt=prompt, chosen=answer, rejected=answer)
    if isinstance(row.prompt, list):
        raise ValueError("a chat prompt needs a model with a chat template")
    return PreferencePair(prompt=row.prompt, chosen=row.answer, rejected=row.answer)


def tokenize_answer(row: AnswerRow, tokenizer, *, max_length: int | None = None) -> TokenizedPair | None:
    """The row as training would tokenize it (the answer is the chosen side; the rejected side is the same)."""
    return tokenize_pair(
        _as_pair(row, bool(getattr(tokenizer, "chat_template", None))), tokenizer, max_length=max_length
    )


@torch.no_grad()
def answer_logps(
    model,
    tokenizer,
    rows: list[AnswerRow],
    *,
    batch_size: int = 8,
    max_length: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> list[AnswerLogp]:
    """Score every row, in batches of similar length; returns one AnswerLogp per row, in order.

    A row whose prompt alone fills `max_length` has no answer token left: it gets (0.0, 0). `on_batch(done, total)`
    is called after each batch (it may raise to stop).
    """
    items = [tokenize_answer(row, tokenizer, max_length=max_length) for row in rows]
    out = [AnswerLogp(0.0, 0)] * len(rows)
    order = sorted((i for i, item in enumerate(items) if item is not None), key=lambda i: -len(items[i].chosen_ids))
    pad = tokenizer.pad_token_id
    done = len(rows) - len(order)
    for start in range(0, len(order), batch_size):
        positions = order[start : start + batch_size]
        ids = [items[i].chosen_ids for i in positions]
        width = max(len(row) for row in ids)
        batch = {
            "input_ids": torch.tensor([row + [pad] * (width - len(row)) for row in ids]),
            "attention_mask": torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids]),
            "completion_mask": torch.tensor(
                [items[i].chosen_mask + [0] * (width - len(items[i].chosen_ids)) for i in positions]
            ),
        }
        # Shape (B,) each: summed answer log-probs and answer token counts. The third value (a chosen-half mean NLL)
        # has no meaning for these rows.
        logps, _, _ = sequence_logps(model, batch)
        for i, logp in zip(positions, logps.tolist(), strict=True):
            # Position t predicts token t + 1: the scored tokens are the masked ones after the first position.
            out[i] = AnswerLogp(float(logp), sum(items[i].chosen_mask[1:]))
        done += len(positions)
        if on_batch is not None:
            on_batch(done, len(rows))
    return out
