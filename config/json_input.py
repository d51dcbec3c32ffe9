"""Reading JSON that people send (API bodies, import lines): finite numbers only, bounded nesting.

Python's `json` turns `1e400` into infinity and accepts `NaN`/`Infinity`, which no column, statistic or JSON column
can hold; a body nested a few thousand levels deep raises RecursionError. Both are refused here, once, with a
message, so no caller ever sees them. Pure standard library (no Django): the import parser uses it too.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32


class JSONInputError(ValueError):
    """The text is JSON Python can read but Verdict refuses (a non-finite number, too deep a nesting)."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONInputError(f"numbers must be finite, got {text[:40]}")
    return value


def _refuse_constant(name: str) -> float:
    raise JSONInputError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, iteratively (a recursive walk would fail on the input it must refuse)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(text: str | bytes) -> Any:
    """`json.loads`, refusing non-finite numbers and nesting deeper than MAX_DEPTH (JSONInputError).

    A syntax error stays a `json.JSONDecodeError` (with its line and column) for callers that report them.
    """
    try:
        value = json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONInputError(f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    except (json.JSONDecodeError, JSONInputError):
        raise
    except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
        raise JSONInputError(str(exc)) from None
    if _depth(value) > MAX_DEPTH:
        raise JSONInputError(f"nested too deeply (at most {MAX_DEPTH} levels)")
    return value
