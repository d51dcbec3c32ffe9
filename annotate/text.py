"""When two texts count as the same, in one place (pure, no Django).

Two strengths, because two questions are asked: `collapsed` for "the same answer" (the leaderboard's identical
answers, which tie by construction: only spacing is ignored), `folded` for "the same text to a reader" (protected
prompts, near-duplicate answers at export: spacing, capitals and Unicode compatibility forms are ignored).
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def collapsed(text: str) -> str:
    """Every run of whitespace made one space, the ends trimmed."""
    return _WHITESPACE.sub(" ", text).strip()


def folded(text: str) -> str:
    """`collapsed` after Unicode NFKC and case folding."""
    return collapsed(unicodedata.normalize("NFKC", text).casefold())
