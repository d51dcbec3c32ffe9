"""REST API for margin jobs (leads only): start one, read it, cancel it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import StrictJSONParser, errors
from training import margin_selectors as selectors
from training.job_api import job_cancelled, job_created
from training.margin_serializers import MarginJobInput, MarginJobSerializer
from training.services.margin_jobs import margin_job_cancel


@extend_schema(methods=["GET"], request=None, responses={200: MarginJobSerializer(many=True), **errors()})
@extend_schema(methods=["POST"], request=MarginJobInput, responses={201: MarginJobSerializer, **errors(400)})
@api_view(["GET", "POST"])
@permission_classes([IsLead])
@parser_classes([StrictJSONParser])
def margin_jobs(request: Request) -> Response:
    """GET: the latest jobs. POST {"base_model": id, "campaign": "slug"} → 201, queued on the training queue;
    400 {"field": ["msg"]}."""
    if request.method == "GET":
        return Response([selectors.margin_job_summary(job=job) for job in selectors.margin_job_list()[:50]])
    given = MarginJobInput(data=request.data)
    return job_created(request, given, get=selectors.margin_job_get, summary=selectors.margin_job_summary)


@extend_schema(responses={200: MarginJobSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def margin_job_detail(request: Request, job_id: int) -> Response:
    return Response(selectors.margin_job_summary(job=selectors.margin_job_get(job_id=job_id)))


@extend_schema(request=None, responses={200: MarginJobSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def margin_job_stop(request: Request, job_id: int) -> Response:
    return job_cancelled(
        job_id, get=selectors.margin_job_get, cancel=margin_job_cancel, summary=selectors.margin_job_summary
    )
