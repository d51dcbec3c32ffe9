"""The quality report as data: the dashboard's numbers as JSON, filtered by judgment source."""

from __future__ import annotations

import math
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.models import Campaign
from annotate.permissions import IsLead
from annotate.quality.drilldown import flagged_reviewer_ids
from annotate.quality.refresh import campaign_report_state
from annotate.sources import DEFAULT_FILTER, SourceFilterError, sources_for
from config.api import SLUG_PATH, errors


def _plain(value: Any) -> Any:
    """JSON has no NaN: an undefined figure (too few pairs, one category) is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _shaped(report: dict, flagged: set[int]) -> dict:
    """The report with names on reviewer rows and kappa pairs, and flags (which change without new judgments)."""
    names = report.get("names", {})
    shaped = {key: value for key, value in report.items() if key != "names"}
    shaped["reviewer_rows"] = [
        {**row, "name": names.get(row["reviewer"]), "flagged": row["reviewer"] in flagged}
        for row in report.get("reviewer_rows", [])
    ]
    shaped["kappas"] = [
        {**pair, "name_a": names.get(pair["reviewer_a"]), "name_b": names.get(pair["reviewer_b"])}
        for pair in report.get("kappas", [])
    ]
    shaped["judges"] = [{**row, "name": names.get(row["judge"])} for row in report.get("judges", [])]
    return shaped


@extend_schema(
    parameters=[SLUG_PATH, OpenApiParameter("source", str, description="human (default), ai or all")],
    responses={
        200: OpenApiResponse(OpenApiTypes.OBJECT, description="The quality report."),
        202: OpenApiResponse(OpenApiTypes.OBJECT, description="Being computed: ask again."),
        **errors(400, 404),
    },
)
@api_view(["GET"])
@permission_classes([IsLead])
def campaign_quality(request: Request, slug: str) -> Response:
    """`?source=human|ai|all` (human by default): 200 with the report, 202 while a big campaign's first report is
    computed (ask again), 400 for an unknown source; `updating` is true while a fresher report is on its way."""
    campaign = get_object_or_404(Campaign.objects.select_related("rubric"), slug=slug)
    source = request.query_params.get("source") or DEFAULT_FILTER
    try:
        sources_for(source)
    except SourceFilterError as error:
        raise ValidationError({"source": [str(error)]}) from error
    state = campaign_report_state(campaign=campaign, source=source)
    if state.report is None:
        return Response({"campaign": campaign.slug, "source": source, "computing": True}, status=202)
    flagged = flagged_reviewer_ids(campaign=campaign)
    body = {"campaign": campaign.slug, "source": source, "updating": state.updating, **_shaped(state.report, flagged)}
    return Response(_plain(body))
