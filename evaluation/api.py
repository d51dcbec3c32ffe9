"""REST API for evaluation (leads only): the leaderboard."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import errors
from evaluation import selectors
from evaluation.leaderboard import LeaderboardError, leaderboard_get
from evaluation.serializers import LeaderboardQuerySerializer, LeaderboardSerializer, leaderboard_data


@extend_schema(parameters=[LeaderboardQuerySerializer], responses={200: LeaderboardSerializer, **errors(400)})
@api_view(["GET"])
@permission_classes([IsLead])
def leaderboard(request: Request) -> Response:
    """`?campaigns=a,b&source=human|ai|all&baseline=<model or name@version>&locale=…&tag=key[=value]`: every model
    of the campaigns with its Bradley–Terry score, Elo-scale rating (baseline at 1000) and win rate against the
    baseline, each with a 95% interval, and the pairwise win-rate matrix. 400 for an unknown campaign, source or
    baseline, or a baseline with several versions named without one."""
    query = LeaderboardQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    campaigns, unknown = selectors.campaigns_by_slugs(slugs=data["campaigns"])
    if unknown:
        raise ValidationError({"campaigns": [f"no such campaign: {', '.join(unknown)}"]})
    try:
        board = leaderboard_get(
            campaigns=campaigns,
            source=data["source"],
            baseline=data["baseline"],
            locale=data["locale"],
            tag=data["tag"],
        )
    except LeaderboardError as error:
        raise ValidationError({error.field: [str(error)]}) from error
    return Response(leaderboard_data(board))
