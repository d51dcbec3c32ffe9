"""Reads for AI judges run in Verdict: the pairs a judge is shown, which it already judged, how far it agrees.

Agreement with the human majority and position consistency are the quality dashboard's (annotate/quality/judges.py)
on the same arrays, restricted to one judge.
"""

from __future__ import annotations

import math
from typing import Any

from annotate.models import Campaign, Comparison, JudgeIdentity, Judgment, JudgmentSource
from annotate.quality.codes import ANSWERS
from annotate.quality.judges import judge_rows
from annotate.quality.load import campaign_arrays
from annotate.services.ai_judgments import AiJudge
from annotate.sources import AI, HUMAN_SOURCES


def _finite(value: float) -> float | None:
    """nan (no pair with a human majority, or kappa undefined) as None: JSON has no nan."""
    return None if math.isnan(value) else float(value)


def judge_rubric(*, campaign: Campaign) -> dict[str, Any]:
    rubric = campaign.rubric
    return {"title": rubric.title, "guidelines": rubric.guidelines, "criteria": list(rubric.criteria)}


def pairs_for_judge(*, campaign: Campaign, limit: int | None = None) -> list[dict[str, Any]]:
    """The campaign's pairs in id order (the first `limit` of them): {comparison, prompt (text or messages), a, b}."""
    pairs = (
        Comparison.objects.filter(campaign=campaign)
        .select_related("prompt", "candidate_a", "candidate_b")
        .order_by("id")
    )
    if limit is not None:
        pairs = pairs[:limit]
    return [
        {
            "comparison": pair.id,
            "prompt": pair.prompt.messages or pair.prompt.text,
            "a": pair.candidate_a.text,
            "b": pair.candidate_b.text,
        }
        for pair in pairs
    ]


def pair_count(*, campaign: Campaign) -> int:
    return Comparison.objects.filter(campaign=campaign).count()


def ai_judge_user_id(*, judge: AiJudge) -> int | None:
    """The judge's user id, or None when it never judged anything."""
    return (
        JudgeIdentity.objects.filter(
            source=JudgmentSource.AI,
            external_id="",
            model_name=judge.model,
            model_version=judge.version,
            prompt_sha256=judge.prompt_sha256,
        )
        .values_list("user_id", flat=True)
        .first()
    )


def judged_pair_ids(*, campaign: Campaign, judge: AiJudge) -> set[int]:
    user_id = ai_judge_user_id(judge=judge)
    if user_id is None:
        return set()
    return set(
        Judgment.objects.filter(reviewer_id=user_id, comparison__campaign=campaign).values_list(
            "comparison_id", flat=True
        )
    )


def ai_judge_agreement(*, campaign: Campaign, judge: AiJudge) -> dict[str, Any] | None:
    """The judge on this campaign: judgments, position consistency and, on pairs with a human majority, accuracy,
    Cohen's kappa, tie share and the judge × human confusion table (rows: judge; columns: majority; a, b, tie,
    both bad). None when the judge has no judgment here."""
    user_id = ai_judge_user_id(judge=judge)
    if user_id is None:
        return None
    judges = campaign_arrays(campaign=campaign, sources=(AI,))
    rows = judge_rows(campaign_arrays(campaign=campaign, sources=HUMAN_SOURCES), judges)
    row = next((r for r in rows if r["judge"] == user_id), None)
    if row is None:
        return None
    return {
        "judgments": int((judges.reviewer == user_id).sum()),
        "position_consistency": _finite(row["position_consistency"]),
        "flips": row["order_flips"],
        "with_majority": row["pairs"],
        "accuracy": _finite(row["accuracy"]),
        "kappa": _finite(row["kappa"]),
        "tie_share": _finite(row["tie_share"]),
        "labels": list(ANSWERS),
        "confusion": row["confusion"],
    }
