"""REST API for generation jobs (leads only): create one, read it, cancel it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import StrictJSONParser, errors
from training import generation_selectors as selectors
from training.job_api import job_cancelled, job_created
from training.serializers import GenerationJobInput, GenerationJobSerializer
from training.services.generation import generation_job_cancel


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
    return job_created(request, given, get=selectors.job_get, summary=selectors.job_summary)


@extend_schema(responses={200: GenerationJobSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def generation_job_detail(request: Request, job_id: int) -> Response:
    return Response(selectors.job_summary(job=selectors.job_get(job_id=job_id)))


@extend_schema(request=None, responses={200: GenerationJobSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def generation_job_stop(request: Request, job_id: int) -> Response:
    return job_cancelled(job_id, get=selectors.job_get, cancel=generation_job_cancel, summary=selectors.job_summary)
