"""Rubric versions: a rubric a campaign uses is frozen, so edits become the next version."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from annotate.models import Rubric

DEFAULT_CRITERIA = [
    {"key": "overall", "label": "Overall quality", "description": "How good the answer is as a whole.", "scale": 5}
]
DEFAULT_GUIDELINES = (
    "Pick the answer you would rather receive. Judge correctness first, then helpfulness, then clarity.\n\n"
    "- **Tie**: both are about equally good.\n- **Both bad**: neither is acceptable (explain why).\n"
    "- **Escalate**: you cannot judge, or the pair needs a lead (explain why)."
)


class RubricError(ValueError):
    pass


def validate_criteria(criteria: Any) -> list[dict[str, Any]]:
    if not isinstance(criteria, list):
        raise RubricError("criteria: must be a list")
    keys = set()
    for index, criterion in enumerate(criteria):
        if not isinstance(criterion, dict) or not isinstance(criterion.get("key"), str) or not criterion["key"]:
            raise RubricError(f"criteria[{index}]: needs a key")
        if criterion["key"] in keys:
            raise RubricError(f"criteria[{index}]: duplicate key '{criterion['key']}'")
        keys.add(criterion["key"])
        scale = criterion.get("scale", 5)
        if not isinstance(scale, int) or scale < 2:
            raise RubricError(f"criteria[{index}].scale: must be an integer of at least 2")
    return criteria


def default_rubric() -> Rubric:
    rubric = Rubric.objects.filter(slug="default").order_by("-version").first()
    return rubric or Rubric.objects.create(
        slug="default", title="Default rubric", guidelines=DEFAULT_GUIDELINES, criteria=DEFAULT_CRITERIA
    )


@transaction.atomic
def rubric_revise(*, rubric: Rubric, title: str, guidelines: str, criteria: list[dict[str, Any]]) -> Rubric:
    """Apply an edit: in place while no campaign uses the rubric, otherwise as a new version (returned)."""
    validate_criteria(criteria)
    if not rubric.is_in_use:
        rubric.title, rubric.guidelines, rubric.criteria = title, guidelines, criteria
        rubric.save()
        return rubric
    latest = Rubric.objects.filter(slug=rubric.slug).aggregate(v=Max("version"))["v"]
    return Rubric.objects.create(
        slug=rubric.slug, version=latest + 1, title=title, guidelines=guidelines, criteria=criteria
    )
