"""Reads for the reviewer workflow: what a reviewer may see of a pair, their progress, and the leads' queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from annotate.models import Assignment, Campaign, Comparison, Judgment, Outcome
from annotate.selectors import campaigns_for_reviewer


@dataclass(frozen=True)
class Side:
    """One candidate as a reviewer sees it: position, an opaque id and the text (no model name, no candidate label,
    no database id)."""

    position: str  # "left" | "right"
    id: str  # side_id(): stands for this candidate within this assignment only
    text: str


def side_id(*, assignment_id: int, candidate_id: int) -> str:
    """The id a reviewer sees for one side of their assignment: an HMAC (SECRET_KEY) of the assignment and the
    candidate. Database ids would leak creation order (once the source label: chosen was created first); this one
    carries nothing without the key, differs between assignments and needs no storage."""
    value = f"{assignment_id}:{candidate_id}"
    return salted_hmac("verdict.review.side", value, algorithm="sha256").hexdigest()[:20]


@dataclass(frozen=True)
class BlindPair:
    assignment: Assignment
    prompt_text: str
    messages: list[dict]
    left: Side
    right: Side
    rubric: object


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    pairs: int
    judgments: int
    wanted: int
    mine: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.judgments / self.wanted)) if self.wanted else 100


def assignment_for_reviewer(*, reviewer: AbstractBaseUser, assignment_id: int) -> Assignment | None:
    """The reviewer's own assignment, or None (someone else's reads as missing)."""
    return (
        Assignment.objects.filter(pk=assignment_id, reviewer=reviewer)
        .select_related("comparison__campaign__rubric")
        .first()
    )


def blind_pair(*, assignment: Assignment, campaign: Campaign | None = None) -> BlindPair:
    """The pair as shown: prompt, left and right by the assignment's order, and the rubric.

    No query when the assignment came from the assignment service (its comparison arrives with prompt and
    candidates) and the campaign is given with its rubric; one query otherwise."""
    comparison = assignment.comparison
    cached = all(
        field.is_cached(comparison)
        for field in (Comparison.prompt.field, Comparison.candidate_a.field, Comparison.candidate_b.field)
    )
    if cached and campaign is not None and campaign.pk == comparison.campaign_id:
        return _blind(assignment, comparison, campaign.rubric)
    comparison = (
        Comparison.objects.select_related("prompt", "candidate_a", "candidate_b", "campaign__rubric")
        .only(
            "prompt__text",
            "prompt__messages",
            "candidate_a__text",
            "candidate_b__text",
            "campaign__slug",
            "campaign__name",
            "campaign__overlap",
            "campaign__rubric__title",
            "campaign__rubric__guidelines",
            "campaign__rubric__criteria",
            "campaign__rubric__version",
            "campaign__rubric__slug",
        )
        .get(pk=assignment.comparison_id)
    )
    return _blind(assignment, comparison, comparison.campaign.rubric)


def _blind(assignment: Assignment, comparison: Comparison, rubric) -> BlindPair:
    first, second = comparison.candidate_a, comparison.candidate_b
    if not assignment.a_on_left:
        first, second = second, first
    messages = comparison.prompt.messages if isinstance(comparison.prompt.messages, list) else []
    return BlindPair(
        assignment=assignment,
        prompt_text=comparison.prompt.text,
        messages=[m for m in messages if isinstance(m, dict)],
        left=Side("left", side_id(assignment_id=assignment.pk, candidate_id=first.pk), first.text),
        right=Side("right", side_id(assignment_id=assignment.pk, candidate_id=second.pk), second.text),
        rubric=rubric,
    )


def campaign_progress(*, campaign: Campaign, reviewer: AbstractBaseUser | None = None) -> CampaignProgress:
    """Progress as reviewers see it (see `campaigns_with_progress`)."""
    totals = Comparison.objects.filter(campaign=campaign).aggregate(
        pairs=Count("id", filter=Q(gold_outcome="")), held=Sum("taken")
    )
    leased = Assignment.objects.filter(state=Assignment.State.LEASED, comparison__campaign=campaign).count()
    mine = 0
    if reviewer is not None:
        mine = Judgment.objects.filter(reviewer=reviewer, comparison__campaign=campaign).count()
    pairs = totals["pairs"] or 0
    return CampaignProgress(
        campaign=campaign,
        pairs=pairs,
        judgments=max(0, (totals["held"] or 0) - leased),
        wanted=pairs * campaign.overlap,
        mine=mine,
    )


def campaigns_with_progress(*, reviewer: AbstractBaseUser) -> list[CampaignProgress]:
    """The reviewer's campaigns (qualified locales) with progress: a fixed number of queries, whatever the count.

    Every number here moves alike for gold and regular pairs, or a reviewer could spot gold (answer carelessly,
    see the count stand still, undo, answer carefully): `judgments` counts every submitted judgment, gold included
    (slots held minus leases, over all pairs), and `mine` all of the reviewer's own. `wanted` stays regular pairs ×
    overlap (a fixed figure, so gold cannot show in it either), so `percent` reaches 100 a little early in a
    campaign with gold. Leads' figures (quality dashboard, exports) keep gold apart."""
    campaigns = list(campaigns_for_reviewer(reviewer=reviewer))
    ids = [campaign.pk for campaign in campaigns]
    totals = {
        row["campaign"]: row
        for row in Comparison.objects.filter(campaign__in=ids)
        .values("campaign")
        .annotate(pairs=Count("id", filter=Q(gold_outcome="")), held=Sum("taken"))
    }
    leased = dict(
        Assignment.objects.filter(state=Assignment.State.LEASED, comparison__campaign__in=ids)
        .values_list("comparison__campaign")
        .annotate(n=Count("id"))
    )
    mine = dict(
        Judgment.objects.filter(reviewer=reviewer, comparison__campaign__in=ids)
        .values_list("comparison__campaign")
        .annotate(n=Count("id"))
    )
    progress = []
    for campaign in campaigns:
        row = totals.get(campaign.pk, {"pairs": 0, "held": 0})
        progress.append(
            CampaignProgress(
                campaign=campaign,
                pairs=row["pairs"],
                judgments=max(0, (row["held"] or 0) - leased.get(campaign.pk, 0)),
                wanted=row["pairs"] * campaign.overlap,
                mine=mine.get(campaign.pk, 0),
            )
        )
    return progress


def judgments_today(*, reviewer: AbstractBaseUser) -> int:
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return Judgment.objects.filter(reviewer=reviewer, created_at__gte=start).count()


def campaign_for_reviewer(*, reviewer: AbstractBaseUser, slug: str) -> Campaign | None:
    """The active campaign with this slug if the reviewer is qualified for one of its locales (as in
    `campaigns_for_reviewer`). The slug is unique, so the join's duplicate rows are one campaign: `first()` needs no
    DISTINCT over the campaign and rubric columns, which cost the hot `next` call a sort of wide rows."""
    return (
        Campaign.objects.select_related("rubric")
        .filter(slug=slug, status=Campaign.Status.ACTIVE, locales__qualifications__reviewer=reviewer)
        .first()
    )


def latest_judgment_as_submitted(*, reviewer: AbstractBaseUser) -> dict:
    """The reviewer's latest judgment in the form's own terms (left/right), to refill the form after an undo."""
    judgment = Judgment.objects.filter(reviewer=reviewer).select_related("assignment").order_by("-created_at", "-id")
    judgment = judgment.first()
    if judgment is None:
        return {}
    a_on_left = judgment.assignment.a_on_left
    left, right = ("a", "b") if a_on_left else ("b", "a")
    if judgment.outcome in (Outcome.A, Outcome.B):
        choice = "left" if (judgment.outcome == Outcome.A) == a_on_left else "right"
    else:
        choice = judgment.outcome
    ratings = judgment.ratings or {}
    return {
        "choice": choice,
        "strength": judgment.strength,
        "critique": judgment.critique,
        "ratings": {"left": ratings.get(left, {}), "right": ratings.get(right, {})},
    }


def open_escalations() -> QuerySet[Judgment]:
    """Escalated judgments no lead has resolved yet, oldest first, with what the queue page shows."""
    return (
        Judgment.objects.filter(outcome=Outcome.ESCALATE, resolution__isnull=True)
        .select_related("reviewer", "assignment", "comparison__campaign", "comparison__prompt")
        .select_related("comparison__candidate_a", "comparison__candidate_b")
        .order_by("created_at", "id")
    )


def resolved_escalations(*, limit: int = 20) -> QuerySet[Judgment]:
    return (
        Judgment.objects.filter(outcome=Outcome.ESCALATE, resolution__isnull=False)
        .select_related("reviewer", "comparison__campaign", "resolution__resolved_by")
        .order_by("-resolution__resolved_at")[:limit]
    )
