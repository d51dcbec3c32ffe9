"""When two texts count as the same, in one place (pure, no Django).

Two strengths, because two questions are asked: `collapsed` for "the same answer" (the leaderboard's identical
answers, which tie by construction: only spacing is ignored), `folded` for "the same text to a reader" (protected
prompts, near-duplicate answers at export: spacing, capitals and Unicode compatibility forms are ignored).
"""

from __future__ import annotations

import unicodedata


def collapsed(text: str) -> str:
    """Every run of whitespace made one space, the ends trimmed."""
    return " ".join(text.split())


def folded(text: str) -> str:
    """`collapsed` after Unicode NFKC and case folding. Exports fold both answers of every pair: ASCII text, which
    NFKC leaves as it is, skips the normalisation (a third of the cost)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return collapsed(text.casefold())
