"""Margin job pages (leads only): "Score pair difficulty" with recent jobs, a job's page and its self-polling card."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate.models import Campaign
from annotate.permissions import lead_required
from training import margin_selectors as selectors
from training.job_views import job_cancel, job_progress, job_start
from training.margin_serializers import MarginJobInput
from training.selectors import base_model_list
from training.services.margin_jobs import margin_job_cancel


def _form_context(values: dict, errors: dict) -> dict:
    return {
        "values": values,
        "errors": errors,
        "base_models": base_model_list(),
        "campaigns": Campaign.objects.order_by("slug"),
        "jobs": list(selectors.margin_job_list()[:20]),
    }


@lead_required
def margins(request: HttpRequest) -> HttpResponse:
    """GET: the form and recent jobs (?campaign=slug preselects one). POST: start a job."""
    if request.method != "POST":
        values = {"campaign": request.GET.get("campaign", "")[:100]}
        return render(request, "training/margins.html", _form_context(values, {}))
    job, errors = job_start(request, MarginJobInput(data=request.POST.dict()))
    if job is not None:
        messages.success(request, f"Scoring #{job.id} queued.")
        return redirect("training:margin_job", job_id=job.id)
    return render(request, "training/margins.html", _form_context(request.POST.dict(), errors), status=400)


@lead_required
@require_GET
def margin_job(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "training/margin_job.html", {"job": selectors.margin_job_get(job_id=job_id)})


@lead_required
@require_GET
def margin_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    return job_progress(request, selectors.margin_job_get(job_id=job_id), "training/_margin_progress.html")


@lead_required
@require_POST
def margin_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.margin_job_get(job_id=job_id)
    return job_cancel(request, job, cancel=margin_job_cancel, title=f"Scoring #{job.id}", page="training:margin_job")
