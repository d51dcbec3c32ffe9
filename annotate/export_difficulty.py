"""Pair difficulty and artifact knobs of an export, as pure functions (no Django).

Each knob is declared once in KNOBS (default, range, help): the policy checks it, the export page builds its field
from it and the API schema describes it from it. The knobs act on the pairs the validity policy would otherwise
export as preferences, in this order, each dropped pair getting one reason:

    near-duplicate answers (when dropped) → too easy for the reference model → longer-answer cap

- A pair's reference margin is logp(majority's answer) − logp(other answer) under a base model (the margin job's
  cached log-probs, chosen by digest), summed over tokens or per token (`margin_unit`). Pairs with a margin above
  `max_margin_nats` are "too easy": the reference already separates them, so they teach little. Pairs whose answers
  were not scored are kept and counted as unscored.
- The agreement floor (ambiguous pairs) is the policy's `min_agreement`, the majority's share; it is not repeated here.
- The longer-answer share is the share of exported preference pairs whose chosen answer is the longer one (in
  characters). With `longer_answer_cap`, pairs won by the longer answer are dropped, in an order drawn from the seed
  and the pair, until the share is at most the cap.
- Near-duplicates are pairs whose two answers are the same text once whitespace runs are collapsed and case folded:
  always flagged (in the row and the counts), dropped when `drop_near_duplicates` is set.
"""

from __future__ import annotations

import hashlib
import math
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from annotate.text import folded

MARGIN_UNITS = ("per_token", "sum")
MAX_MARGIN_NATS = 10_000.0
_DIGEST = re.compile(r"[0-9a-f]{1,64}")


class KnobError(ValueError):
    """A knob's value is out of range; the message starts with the knob's name (the policy re-raises it as its own
    PolicyError, so this module needs nothing from it)."""


@dataclass(frozen=True)
class Knob:
    """One export knob: its default, its range (numbers) or choices, and the help people read."""

    name: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        """The knob as an OpenAPI property (the API's request schema)."""
        schema: dict[str, Any] = {"description": self.help, "default": self.default}
        if self.choices:
            return {**schema, "type": "string", "enum": list(self.choices)}
        if self.minimum is not None:
            return {**schema, "type": "number", "minimum": self.minimum, "maximum": self.maximum, "nullable": True}
        if isinstance(self.default, bool):
            return {**schema, "type": "boolean"}
        return {**schema, "type": "string", "pattern": "^[0-9a-fA-F]{0,64}$"}


KNOBS = {
    knob.name: knob
    for knob in (
        Knob(
            "reference_model_digest",
            "",
            "Whose cached margins to use (a model digest from “Score pair difficulty”); empty: no margin knob",
        ),
        Knob(
            "margin_unit",
            "per_token",
            "Compare margins per token (does not grow with length) or summed over the answer",
            choices=MARGIN_UNITS,
        ),
        Knob(
            "max_margin_nats",
            None,
            "Drop pairs the reference already separates by more than this many nats (too easy); empty: keep all. "
            "Pairs without a cached margin are kept and counted as unscored",
            minimum=0.0,
            maximum=MAX_MARGIN_NATS,
        ),
        Knob(
            "longer_answer_cap",
            None,
            "Most share of exported pairs the longer answer may win; pairs won by the longer answer are dropped "
            "(in a seeded order) until it holds. Empty: no cap",
            minimum=0.0,
            maximum=1.0,
        ),
        Knob(
            "drop_near_duplicates",
            False,
            "Drop pairs whose answers are the same text after normalising whitespace and case (always flagged)",
        ),
    )
}
REASONS = {
    "near_duplicate": "near-duplicate answers",
    "too_easy": "too easy for the reference",
    "longer_answer_cap": "longer-answer cap",
}
_TRUE, _FALSE = ("true", "on", "1", "yes"), ("false", "off", "0", "no", "")


def _optional_number(name: str, value: Any) -> float | None:
    """None for empty, else a finite float within the knob's range."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise KnobError(f"{name}: expected a number, got {value[:40]!r}") from None
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise KnobError(f"{name}: expected a number, got {str(value)[:40]!r}")
    try:
        number = float(number)
    except OverflowError:
        raise KnobError(f"{name}: expected a number, got {str(value)[:40]}…") from None
    knob = KNOBS[name]
    if not math.isfinite(number) or not knob.minimum <= number <= knob.maximum:
        raise KnobError(
            f"{name}: expected a number from {knob.minimum:g} to {knob.maximum:g} or empty, got {str(value)[:40]}"
        )
    return number


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise KnobError(f"{name}: expected true or false, got {str(value)[:40]!r}")


def convert_knobs(data: dict[str, Any]) -> dict[str, Any]:
    """Values as typed (JSON, a form, text) → the policy's types, for the knobs present; KnobError names the knob."""
    out = dict(data)
    for name in ("max_margin_nats", "longer_answer_cap"):
        if name in out:
            out[name] = _optional_number(name, out[name])
    if "drop_near_duplicates" in out:
        out["drop_near_duplicates"] = _flag("drop_near_duplicates", out["drop_near_duplicates"])
    if isinstance(out.get("reference_model_digest"), str):
        out["reference_model_digest"] = out["reference_model_digest"].strip().lower()
    return out


def check_knobs(policy: Any) -> None:
    """Raise KnobError for the first knob of `policy` that is out of range, or set without what it needs."""
    digest = policy.reference_model_digest
    if not isinstance(digest, str) or (digest and not _DIGEST.fullmatch(digest)):
        raise KnobError(f"reference_model_digest: expected a model's hex SHA-256 or empty, got {str(digest)[:40]!r}")
    if policy.margin_unit not in MARGIN_UNITS:
        raise KnobError(f"margin_unit: expected one of {', '.join(MARGIN_UNITS)}, got {str(policy.margin_unit)!r:.40}")
    for name in ("max_margin_nats", "longer_answer_cap"):
        value = getattr(policy, name)
        if value is not None and _optional_number(name, value) is None:
            raise KnobError(f"{name}: expected a number or empty")
    if not isinstance(policy.drop_near_duplicates, bool):
        raise KnobError(f"drop_near_duplicates: expected true or false, got {policy.drop_near_duplicates!r:.40}")
    if policy.max_margin_nats is not None and not digest:
        raise KnobError("max_margin_nats: choose a reference_model_digest (whose margins) first")


def near_duplicates(text_a: str, text_b: str) -> bool:
    """The same text once whitespace, case and Unicode compatibility forms are set aside (annotate/text.py)."""
    return folded(text_a) == folded(text_b)


def longer_won(chosen: str, rejected: str) -> bool:
    """Whether the chosen answer is the longer one, in characters (equal lengths: no)."""
    return len(chosen) > len(rejected)


def cap_rank(*, seed: int, pair_key: str) -> int:
    """The order in which the cap drops pairs won by the longer answer: a hash of (seed, pair), lowest first."""
    digest = hashlib.sha256(f"longer-cap\x1f{seed}\x1f{pair_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def cap_drop_count(*, longer: int, preferences: int, cap: float) -> int:
    """The fewest pairs won by the longer answer to drop so that (longer − k) / (preferences − k) ≤ cap."""
    if preferences == 0 or longer <= cap * preferences:
        return 0
    if cap >= 1.0:
        return 0
    k = max(0, math.ceil((longer - cap * preferences) / (1.0 - cap)) - 1)
    while k < longer and (longer - k) > cap * (preferences - k) + 1e-12:
        k += 1
    return k


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


# Histogram bins: fixed edges, so the counts take constant memory however many pairs there are.
EDGES = {
    "margin_per_token": (-2.0, -1.0, -0.5, -0.25, -0.1, 0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
    "margin_sum": (-50.0, -20.0, -10.0, -5.0, -2.0, 0.0, 2.0, 5.0, 10.0, 20.0, 50.0),
    "length_difference": (-1000, -500, -200, -100, -50, -10, 11, 51, 101, 201, 501, 1001),
}


class Histogram:
    """Counts per bin: below the first edge, [edge i, edge i+1) for each i, at or above the last edge."""

    def __init__(self, edges: tuple[float, ...], *, integer: bool = False) -> None:
        self.edges, self.integer = edges, integer
        self.counts = [0] * (len(edges) + 1)

    def add(self, value: float) -> None:
        self.counts[bisect_right(self.edges, value)] += 1

    def labels(self) -> list[str]:
        edges = self.edges
        if self.integer:  # integer bins read as closed ranges: [−10, 11) is −10 … 10
            inner = [f"{lo:g} … {hi - 1:g}" for lo, hi in zip(edges, edges[1:], strict=False)]
            return [f"≤ {edges[0] - 1:g}", *inner, f"≥ {edges[-1]:g}"]
        inner = [f"{lo:g} … {hi:g}" for lo, hi in zip(edges, edges[1:], strict=False)]
        return [f"< {edges[0]:g}", *inner, f"≥ {edges[-1]:g}"]

    def as_dict(self) -> dict[str, list]:
        return {"labels": self.labels(), "counts": list(self.counts)}
