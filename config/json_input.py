"""Reading JSON that people send (API bodies, import lines): finite numbers only, bounded nesting.

Python's `json` turns `1e400` into infinity and accepts `NaN`/`Infinity`, which no column, statistic or JSON column
can hold; a body nested a few thousand levels deep raises RecursionError; PostgreSQL stores no NUL character in text
or jsonb. All three are refused here, once, with a message, so no caller ever sees them. Pure standard library (no Django): the import parser uses it too.
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


def _check(value: Any, *, nul_ok: bool) -> None:
    """Depth and NUL characters of parsed JSON, iteratively (a recursive walk would fail on what it must refuse)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item and not nul_ok:
                raise JSONInputError("text must not contain NUL (\\u0000) characters")
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise JSONInputError(f"nested too deeply (at most {MAX_DEPTH} levels)")
            children = [*item, *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def loads(text: str | bytes, *, nul_ok: bool = False) -> Any:
    """`json.loads`, refusing non-finite numbers, nesting deeper than MAX_DEPTH and (unless `nul_ok`, for a caller
    that names the field itself) NUL characters: JSONInputError.

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
    _check(value, nul_ok=nul_ok)
    return value
