"""Ranges of allowed numbers, and the number tests every setting check uses (standard library only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A range of numbers, each end closed or open (None: unbounded)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (self.high is not None and (value >= self.high if self.high_open else value > self.high))

    def __str__(self) -> str:
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        low = "-∞" if self.low is None else _number(self.low)
        high = "∞" if self.high is None else _number(self.high)
        return f"{left}{low}, {high}{right}"


def _number(value: float) -> str:
    """1e-2 → "0.01", 10_000_000 → "10000000" (not "1e+07"): how a bound reads in a message."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def is_number(value: Any) -> bool:
    # An int is always finite (math.isfinite would overflow on one with hundreds of digits).
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
