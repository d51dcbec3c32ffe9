"""REST API for judge jobs (leads only): start one, list them, read one (with the judge's agreement), cancel it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import Conflict, StrictJSONParser, errors
from training import judge_selectors as selectors
from training.judge_serializers import JudgeJobDetailSerializer, JudgeJobInput, JudgeJobSerializer
from training.services.judge_jobs import JudgeRejected, judge_job_cancel


@extend_schema(methods=["GET"], request=None, responses={200: JudgeJobSerializer(many=True), **errors()})
@extend_schema(methods=["POST"], request=JudgeJobInput, responses={201: JudgeJobSerializer, **errors(400)})
@api_view(["GET", "POST"])
@permission_classes([IsLead])
@parser_classes([StrictJSONParser])
def judge_jobs(request: Request) -> Response:
    """GET: the latest jobs. POST {"model": "base:1" | "run:4", "campaign": "slug", "limit": N (optional)} → 201,
    the queued job; 400 {"field": ["msg"]}."""
    if request.method == "GET":
        return Response([selectors.job_summary(job=job) for job in selectors.job_list()[:50]])
    given = JudgeJobInput(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        job = given.create_job(requested_by=request.user)
    except JudgeRejected as exc:
        raise ValidationError(exc.errors) from exc
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job.id)), status=201)


@extend_schema(responses={200: JudgeJobDetailSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def judge_job_detail(request: Request, job_id: int) -> Response:
    """The job, its counts, and the judge against the human majority on the pairs it judged."""
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job_id), agreement=True))


@extend_schema(request=None, responses={200: JudgeJobSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def judge_job_stop(request: Request, job_id: int) -> Response:
    job = selectors.job_get(job_id=job_id)
    try:
        judge_job_cancel(job_id=job.id)
    except JudgeRejected as exc:
        raise Conflict(exc.errors) from exc
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job.id)))
