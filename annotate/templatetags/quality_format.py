"""Number formatting for the quality dashboard: nan and None read as a dash, never as "nan"."""

from __future__ import annotations

import math

from django import template

register = template.Library()


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


@register.filter
def num(value, digits: int = 2) -> str:
    """`{{ x|num:3 }}` → "0.812"; nan → "—"."""
    return "—" if _missing(value) else f"{float(value):.{int(digits)}f}"


@register.filter
def pct(value, digits: int = 0) -> str:
    """`{{ share|pct }}` → "62%"; nan → "—"."""
    return "—" if _missing(value) else f"{100 * float(value):.{int(digits)}f}%"


@register.filter
def pvalue(value) -> str:
    """p-values: "<0.001" below a thousandth, else three decimals."""
    if _missing(value):
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def prompt_preview(prompt) -> str:
    """A prompt on one line: its text, or a chat's turns as "role: content" joined by " · " (chat prompts have no
    text)."""
    messages = prompt.messages if isinstance(prompt.messages, list) else []
    turns = [f"{m.get('role', '')}: {m.get('content', '')}" for m in messages if isinstance(m, dict)]
    return " · ".join(" ".join(turn.split()) for turn in turns) if turns else prompt.text
