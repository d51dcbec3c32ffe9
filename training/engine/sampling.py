"""Sampling settings for generation, checked without torch (the command line refuses bad ones before loading)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SamplingSettings:
    samples: int = 2
    temperature: float = 0.8  # 0 means greedy
    top_p: float = 0.95
    max_new_tokens: int = 256
    seed: int = 0

    def problems(self) -> list[str]:
        """One `field: problem` message per bad setting (empty when all are usable)."""
        problems = []
        if self.samples < 1:
            problems.append(f"samples: must be at least 1, got {self.samples}")
        if self.temperature < 0:
            problems.append(f"temperature: must be 0 (greedy) or more, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            problems.append(f"top_p: must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            problems.append(f"max_new_tokens: must be at least 1, got {self.max_new_tokens}")
        return problems

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
