"""The quality report as data: the dashboard's numbers as JSON, filtered by judgment source."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.models import Campaign
from annotate.permissions import IsLead
from annotate.quality.report import quality_report
from annotate.sources import DEFAULT_FILTER, SourceFilterError, sources_for
from config.api import SLUG_PATH, errors


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
    report = quality_report(campaign=campaign, source=source)
    return Response(report.as_json(), status=202 if report.computing else 200)
