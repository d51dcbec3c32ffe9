"""Where a judgment came from, and which sources each filter keeps: the one place these codes are spelled.

Pure (no Django), so that the export policy and the quality metrics can use the same names as the model.
"""

from __future__ import annotations

REVIEWER = "reviewer"  # a Verdict reviewer, through a lease
IMPORTED = "imported"  # a human annotator from an imported file, known by an external pseudonymous id
AI = "ai"  # an AI judge: model name, version and the digest of its prompt

SOURCES = (REVIEWER, IMPORTED, AI)
HUMAN_SOURCES = (REVIEWER, IMPORTED)

# What a dashboard, report or export may ask for; "human" is everyone's default.
SOURCE_FILTERS: dict[str, tuple[str, ...]] = {"human": HUMAN_SOURCES, "ai": (AI,), "all": SOURCES}
DEFAULT_FILTER = "human"


class SourceFilterError(ValueError):
    """An unknown filter name; the message lists the valid ones."""


def sources_for(name: str | None) -> tuple[str, ...]:
    """The judgment sources a filter name keeps (None or empty: the default, human)."""
    name = name or DEFAULT_FILTER
    if name not in SOURCE_FILTERS:
        raise SourceFilterError(f"source: expected one of {', '.join(SOURCE_FILTERS)}, got {name!r}")
    return SOURCE_FILTERS[name]
