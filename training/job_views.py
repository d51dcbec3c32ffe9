"""What the run and job pages share: starting a job from a form, a self-polling card that stops when the work ends,
and the Cancel button."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from rest_framework.serializers import Serializer

from training.models import ModelJob
from training.services import JobRejected

# htmx stops polling an element when its response has this status.
STOP_POLLING = 286


def job_start(request: HttpRequest, given: Serializer) -> tuple[ModelJob | None, dict]:
    """The job a start form asked for (its input serializer `given` creates it), or None and the errors to show
    beside the form's fields: the serializer's, or the job service's."""
    if not given.is_valid():
        return None, given.errors
    try:
        return given.create_job(requested_by=request.user), {}
    except JobRejected as exc:
        return None, exc.errors


def polled_card(request: HttpRequest, response: HttpResponse, *, ended: bool) -> HttpResponse:
    """Once the work has ended the card answers 286 (no more polling) and reloads the page, whose end state may show
    more than the card (a report, the judge's agreement)."""
    if ended and request.htmx:
        response.status_code = STOP_POLLING
        response["HX-Refresh"] = "true"
    return response


def job_progress(request: HttpRequest, job: ModelJob, template: str) -> HttpResponse:
    """A job's self-polling card (`template`, a fragment extending training/_job_progress.html)."""
    return polled_card(request, render(request, template, {"job": job}), ended=not job.is_active)


def job_cancel(
    request: HttpRequest, job: ModelJob, *, cancel: Callable[..., ModelJob], title: str, page: str
) -> HttpResponse:
    """Cancel through the job's service and go back to its page (`page`, a URL name), saying what happened."""
    try:
        cancel(job_id=job.id)
    except JobRejected as exc:
        messages.error(request, next(iter(exc.errors.values()))[0])
    else:
        messages.success(request, f"{title}: cancellation requested.")
    return redirect(page, job_id=job.id)
