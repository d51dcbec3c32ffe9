"""REST API for generation jobs (leads only): create one, read it, cancel it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import Conflict, StrictJSONParser, errors
from training import generation_selectors as selectors
from training.serializers import GenerationJobInput, GenerationJobSerializer
from training.services.generation import GenerationRejected, generation_job_cancel


@extend_schema(methods=["GET"], request=None, responses={200: GenerationJobSerializer(many=True), **errors()})
@extend_schema(
    methods=["POST"],
    request={"application/json": GenerationJobInput, "multipart/form-data": GenerationJobInput},
    responses={201: GenerationJobSerializer, **errors(400)},
)
@api_view(["GET", "POST"])
@permission_classes([IsLead])
@parser_classes([StrictJSONParser, MultiPartParser])
def generation_jobs(request: Request) -> Response:
    """GET: the latest jobs. POST {"models": ["base:1", "run:4"], "source_campaign": "slug" (or a multipart
    `prompts_file`), "locale", "tag": "key=value", "samples", "temperature", "top_p", "max_new_tokens", "seed",
    "pairs": "across-models"|"all", "target_campaign": "slug", "round_of": run id} → 201; 400 {"field": ["msg"]}."""
    if request.method == "GET":
        return Response([selectors.job_summary(job=job) for job in selectors.job_list()[:50]])
    given = GenerationJobInput(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        job = given.create_job(requested_by=request.user)
    except GenerationRejected as exc:
        raise ValidationError(exc.errors) from exc
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job.id)), status=201)


@extend_schema(responses={200: GenerationJobSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def generation_job_detail(request: Request, job_id: int) -> Response:
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job_id)))


@extend_schema(request=None, responses={200: GenerationJobSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def generation_job_stop(request: Request, job_id: int) -> Response:
    job = selectors.job_get(job_id=job_id)
    try:
        generation_job_cancel(job_id=job.id)
    except GenerationRejected as exc:
        raise Conflict(exc.errors) from exc
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job.id)))
