"""REST API for judge jobs (leads only): start one, list them, read one (with the judge's agreement), cancel it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import StrictJSONParser, errors
from training import judge_selectors as selectors
from training.job_api import job_cancelled, job_created
from training.judge_serializers import JudgeJobDetailSerializer, JudgeJobInput, JudgeJobSerializer
from training.services.judge_jobs import judge_job_cancel


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
    return job_created(request, JudgeJobInput(data=request.data), get=selectors.job_get, summary=selectors.job_summary)


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
    return job_cancelled(job_id, get=selectors.job_get, cancel=judge_job_cancel, summary=selectors.job_summary)
