"""What the model jobs' APIs share: creating a job from its input serializer, and cancelling one (409 if it can't)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from config.api import Conflict
from training.models import ModelJob
from training.services import JobRejected

JobGet = Callable[..., ModelJob]
JobSummary = Callable[..., dict[str, Any]]


def job_created(request: Request, given: Serializer, *, get: JobGet, summary: JobSummary) -> Response:
    """201 with the queued job; 400 {"field": ["msg"]} from the serializer or the job's service."""
    given.is_valid(raise_exception=True)
    try:
        job = given.create_job(requested_by=request.user)
    except JobRejected as exc:
        raise ValidationError(exc.errors) from exc
    return Response(summary(job=get(job_id=job.id)), status=201)


def job_cancelled(job_id: int, *, get: JobGet, cancel: Callable[..., ModelJob], summary: JobSummary) -> Response:
    """The job after its service cancelled it (or asked it to stop); 404 when there is none, 409 when it has ended."""
    job = get(job_id=job_id)
    try:
        cancel(job_id=job.id)
    except JobRejected as exc:
        raise Conflict(exc.errors) from exc
    return Response(summary(job=get(job_id=job.id)))
