"""Reviewer REST API: lease the next pair, submit a judgment. Same rules as the pages (services do the work)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from annotate import review_selectors
from annotate.api.serializers import JudgmentInputSerializer, JudgmentSerializer, PairSerializer
from annotate.permissions import IsReviewer
from annotate.services.assignment import assign_next_pair
from annotate.services.judging import CampaignClosed, JudgmentInvalid, LeaseLost, choice_for, submit_judgment
from config.api import SLUG_PATH, conflict, errors, rejected


@extend_schema(
    parameters=[SLUG_PATH],
    request=None,
    responses={
        200: PairSerializer,
        204: OpenApiResponse(description="Nothing left for this reviewer in this campaign."),
        **errors(404),
    },
)
@api_view(["POST"])
@permission_classes([IsReviewer])
def next_assignment(request: Request, slug: str) -> Response:
    """200 with the reviewer's current or next pair (blind: texts and opaque side ids only); 204 when none is left."""
    campaign = review_selectors.campaign_for_reviewer(reviewer=request.user, slug=slug)
    if campaign is None:
        raise NotFound()
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


@extend_schema(
    request=JudgmentInputSerializer,
    responses={
        201: JudgmentSerializer,
        200: OpenApiResponse(JudgmentSerializer, description="Already judged: the stored judgment."),
        **errors(400, 404, 409),
    },
)
@api_view(["POST"])
@permission_classes([IsReviewer])
def assignment_judgment(request: Request, assignment_id: int) -> Response:
    """201 when stored, 200 when this assignment was already judged (the stored judgment), 400 with field messages,
    409 when the lease lapsed and the pair filled up meanwhile or the campaign was closed; another reviewer's
    assignment is 404."""
    assignment = review_selectors.assignment_for_reviewer(reviewer=request.user, assignment_id=assignment_id)
    if assignment is None:
        raise NotFound()
    submitted = JudgmentInputSerializer(data=request.data)
    submitted.is_valid(raise_exception=True)
    data = submitted.validated_data
    try:
        judgment, created = submit_judgment(
            assignment=assignment,
            choice=data["choice"],
            strength=data.get("strength"),
            ratings=data.get("ratings"),
            critique=data.get("critique"),
            time_taken_ms=data["time_taken_ms"],
        )
    except (LeaseLost, CampaignClosed) as refused:
        raise conflict(refused.errors) from refused
    except JudgmentInvalid as invalid:
        raise rejected(invalid.errors) from invalid
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
