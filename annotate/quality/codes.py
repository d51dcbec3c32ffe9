"""Outcome and strength codes: the one place they are spelled, and the integers the quality arrays store.

Pure (no Django), like ``annotate.sources``: ``annotate.models.Outcome`` and ``Strength`` take their values from here,
so the model's choices, the export policy and the quality metrics cannot drift apart. An outcome's integer code is
its position in ``OUTCOMES``, a strength's its position in ``STRENGTHS`` (``NO_STRENGTH`` when blank).
"""

from __future__ import annotations

A = "a"
B = "b"
TIE = "tie"
BOTH_BAD = "both_bad"
ESCALATE = "escalate"

# Answers first: agreement is measured on the first N_CATEGORIES (an escalation is not an answer).
OUTCOMES = (A, B, TIE, BOTH_BAD, ESCALATE)
ANSWERS = OUTCOMES[:4]
N_CATEGORIES = len(ANSWERS)
OUTCOME_A, OUTCOME_B, OUTCOME_TIE, OUTCOME_BOTH_BAD, OUTCOME_ESCALATE = range(len(OUTCOMES))

SLIGHT = "slight"
CLEAR = "clear"
STRONG = "strong"
STRENGTHS = (SLIGHT, CLEAR, STRONG)  # weakest first
NO_STRENGTH = -1

OUTCOME_CODE: dict[str, int] = {name: code for code, name in enumerate(OUTCOMES)}
STRENGTH_CODE: dict[str | None, int] = {"": NO_STRENGTH, None: NO_STRENGTH} | {
    name: code for code, name in enumerate(STRENGTHS)
}


def sql_case(column: str, names: tuple[str, ...]) -> str:
    """A SQL ``CASE`` giving each name's position in ``names`` (-1 otherwise), for reading codes in the database."""
    whens = " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(names))
    return f"(CASE {column} {whens} ELSE -1 END)"
