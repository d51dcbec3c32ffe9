"""Reviewer REST API: lease the next pair, submit a judgment. Same rules as the pages (services do the work)."""

from __future__ import annotations

from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate import review_selectors
from annotate.permissions import IsReviewer
from annotate.services.assignment import assign_next_pair
from annotate.services.judging import JudgmentInvalid, LeaseLost, choice_for, submit_judgment

NOT_FOUND = Response({"detail": "Not found."}, status=404)


@api_view(["POST"])
@permission_classes([IsReviewer])
def next_assignment(request: Request, slug: str) -> Response:
    """200 with the reviewer's current or next pair (blind: texts and opaque side ids only); 204 when none is left."""
    campaign = review_selectors.campaign_for_reviewer(reviewer=request.user, slug=slug)
    if campaign is None:
        return NOT_FOUND
    assignment = assign_next_pair(reviewer=request.user, campaign=campaign)
    if assignment is None:
        return Response(status=204)
    pair = review_selectors.blind_pair(assignment=assignment, campaign=campaign)
    return Response(
        {
            "assignment": assignment.pk,
            "prompt": {"text": pair.prompt_text, "messages": pair.messages or None},
            "left": {"id": pair.left.id, "text": pair.left.text},
            "right": {"id": pair.right.id, "text": pair.right.text},
            "rubric": {
                "slug": pair.rubric.slug,
                "version": pair.rubric.version,
                "title": pair.rubric.title,
                "guidelines": pair.rubric.guidelines,
                "criteria": pair.rubric.criteria,
            },
            "expires_at": assignment.expires_at.isoformat(),
        }
    )


@api_view(["POST"])
@permission_classes([IsReviewer])
def assignment_judgment(request: Request, assignment_id: int) -> Response:
    """201 when stored, 200 when this assignment was already judged (the stored judgment), 400 with field messages,
    409 when the lease lapsed and the pair filled up meanwhile; another reviewer's assignment is 404."""
    assignment = review_selectors.assignment_for_reviewer(reviewer=request.user, assignment_id=assignment_id)
    if assignment is None:
        return NOT_FOUND
    data = request.data if isinstance(request.data, dict) else {}
    try:
        judgment, created = submit_judgment(
            assignment=assignment,
            choice=data.get("choice", ""),
            strength=data.get("strength"),
            ratings=data.get("ratings"),
            critique=data.get("critique"),
            time_taken_ms=_int(data.get("time_taken_ms")),
        )
    except LeaseLost as lost:
        return Response({"errors": lost.errors}, status=409)
    except JudgmentInvalid as invalid:
        return Response({"errors": invalid.errors}, status=400)
    return Response(
        {
            "judgment": judgment.pk,
            "assignment": assignment.pk,
            "choice": choice_for(outcome=judgment.outcome, a_on_left=assignment.a_on_left),
            "strength": judgment.strength,
            "critique": judgment.critique,
            "created_at": judgment.created_at.isoformat(),
        },
        status=201 if created else 200,
    )


def _int(value) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0
