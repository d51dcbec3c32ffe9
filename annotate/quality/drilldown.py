"""Reads behind the drill-down pages: flags, a reviewer's recent judgments beside the others' majority, one pair."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Q

from annotate.models import Campaign, Comparison, Judgment, Outcome, ReviewerFlag
from annotate.quality.codes import ANSWERS
from annotate.sources import DEFAULT_FILTER, sources_for


def flagged_reviewer_ids(*, campaign: Campaign) -> set[int]:
    """Reviewers with an active flag for this campaign or for every campaign (not cached: flags change any time)."""
    flags = ReviewerFlag.objects.filter(Q(campaign=campaign) | Q(campaign__isnull=True), active=True)
    return set(flags.values_list("reviewer_id", flat=True))


@dataclass(frozen=True)
class RecentJudgment:
    judgment: Judgment
    majority: str | None  # plurality outcome of the other reviewers; None when they are split or absent
    others: int

    @property
    def majority_label(self) -> str:
        return Outcome(self.majority).label if self.majority else ""

    @property
    def agrees(self) -> bool | None:
        return None if self.majority is None else self.judgment.outcome == self.majority


def recent_judgments_with_majority(
    *, campaign: Campaign, reviewer_id: int, limit: int = 50, source: str = DEFAULT_FILTER
) -> list[RecentJudgment]:
    """The reviewer's latest judgments, each beside the leave-one-out majority of the others the source filter keeps
    (two queries)."""
    judgments = list(
        Judgment.objects.filter(comparison__campaign=campaign, reviewer_id=reviewer_id)
        .select_related("comparison__prompt", "assignment")
        .order_by("-created_at", "-id")[:limit]
    )
    others: dict[int, Counter] = {}
    answered = list(ANSWERS)
    rows = (
        Judgment.objects.filter(
            comparison_id__in={j.comparison_id for j in judgments}, outcome__in=answered, source__in=sources_for(source)
        )
        .exclude(reviewer_id=reviewer_id)
        .values_list("comparison_id", "outcome")
    )
    for comparison_id, outcome in rows:
        others.setdefault(comparison_id, Counter())[outcome] += 1
    result = []
    for judgment in judgments:
        counts = others.get(judgment.comparison_id, Counter())
        ranked = counts.most_common(2)
        unique_top = bool(ranked) and (len(ranked) == 1 or ranked[0][1] > ranked[1][1])
        result.append(RecentJudgment(judgment, ranked[0][0] if unique_top else None, sum(counts.values())))
    return result


@dataclass(frozen=True)
class PairDetail:
    """One pair as a lead sees it: the prompt (text or chat turns), both answers with their models, every judgment."""

    comparison: Comparison
    turns: list[dict]  # chat prompts: [{"role", "content"}]; empty for a text prompt
    judgments: list[Judgment]


def pair_detail(*, campaign: Campaign, comparison_id: int) -> PairDetail:
    """The campaign's pair with all its judgments, of every source (three queries); raises Comparison.DoesNotExist."""
    comparison = Comparison.objects.select_related("prompt__locale", "candidate_a", "candidate_b").get(
        campaign=campaign, pk=comparison_id
    )
    messages = comparison.prompt.messages if isinstance(comparison.prompt.messages, list) else []
    judgments = list(
        comparison.judgments.select_related(
            "reviewer", "reviewer__judge_identity", "assignment", "resolution"
        ).order_by("created_at", "id")
    )
    return PairDetail(comparison, [m for m in messages if isinstance(m, dict)], judgments)
