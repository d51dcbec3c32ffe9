"""What makes two prompts "the same prompt" for protection, as pure functions (no Django).

A protected prompt is known by the digest of its normalised text and its locale code, never by a row id: the same
question imported again into another campaign, in a later round, with other spacing or capitals, or turned into a
one-message chat by a generation job, is still the same prompt and stays out of every training split.

Normalisation (`normalise_prompt`):
- a plain text prompt: Unicode NFKC, case-folded, every run of whitespace collapsed to one space, trimmed;
- a chat (`messages`): a single user message is its content (that is the chat form a generation job gives a plain
  prompt, so both forms are one prompt); a longer conversation is each turn as `role: content`, one per line, before
  the same normalisation — so whitespace and case do not matter there either, but roles and turn order do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from annotate.text import folded


def _message_text(messages: Sequence[Any]) -> str:
    turns = [m for m in messages if isinstance(m, dict)]
    if len(turns) == 1 and turns[0].get("role", "user") == "user":
        return str(turns[0].get("content", ""))
    return "\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in turns)


def normalise_prompt(text: str = "", messages: Sequence[Any] | None = None) -> str:
    """The prompt's normalised text: messages when given (a chat), else `text`."""
    raw = _message_text(messages) if messages else text or ""
    return folded(raw)


def prompt_digest(text: str = "", messages: Sequence[Any] | None = None) -> str:
    """SHA-256 (hex) of the normalised prompt: what `ProtectedPrompt.digest` stores."""
    return hashlib.sha256(normalise_prompt(text, messages).encode()).hexdigest()


def prompt_value_digest(prompt: str | Sequence[Any]) -> str:
    """The digest of a prompt as a snapshot row holds it: a text, or a list of chat messages."""
    return prompt_digest(messages=prompt) if isinstance(prompt, list) else prompt_digest(text=str(prompt))
