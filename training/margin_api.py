"""REST API for margin jobs (leads only): start one, read it, cancel it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import Conflict, StrictJSONParser, errors
from training import margin_selectors as selectors
from training.margin_serializers import MarginJobInput, MarginJobSerializer
from training.services.margin_jobs import MarginRejected, margin_job_cancel


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
    given.is_valid(raise_exception=True)
    try:
        job = given.create_job(requested_by=request.user)
    except MarginRejected as exc:
        raise ValidationError(exc.errors) from exc
    return Response(selectors.margin_job_summary(job=selectors.margin_job_get(job_id=job.id)), status=201)


@extend_schema(responses={200: MarginJobSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def margin_job_detail(request: Request, job_id: int) -> Response:
    return Response(selectors.margin_job_summary(job=selectors.margin_job_get(job_id=job_id)))


@extend_schema(request=None, responses={200: MarginJobSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def margin_job_stop(request: Request, job_id: int) -> Response:
    job = selectors.margin_job_get(job_id=job_id)
    try:
        margin_job_cancel(job_id=job.id)
    except MarginRejected as exc:
        raise Conflict(exc.errors) from exc
    return Response(selectors.margin_job_summary(job=selectors.margin_job_get(job_id=job.id)))
