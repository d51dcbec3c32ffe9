"""Judge pages (leads only): start a judge job with recent jobs listed, a job's page and its self-polling card."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate.models import Campaign
from annotate.permissions import lead_required
from training import generation_selectors, judge_selectors
from training.job_views import job_cancel, job_progress, job_start
from training.judge_serializers import JudgeJobInput
from training.services.judge_jobs import judge_job_cancel


def _form_context(values: dict, errors: dict) -> dict:
    return {
        "values": values,
        "errors": errors,
        "model_options": generation_selectors.model_options(),
        "campaigns": Campaign.objects.order_by("slug"),
        "jobs": list(judge_selectors.job_list()[:20]),
    }


@lead_required
def judge(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        values = {"campaign": request.GET.get("campaign", "")[:100]}
        return render(request, "training/judge.html", _form_context(values, {}))
    fields = {key: value for key, value in request.POST.dict().items() if key in ("model", "campaign", "limit")}
    if not fields.get("limit"):
        fields.pop("limit", None)  # an empty box: every pair
    job, errors = job_start(request, JudgeJobInput(data=fields))
    if job is not None:
        messages.success(request, f"Judge job #{job.id} queued.")
        return redirect("training:judge_job", job_id=job.id)
    return render(request, "training/judge.html", _form_context(request.POST.dict(), errors), status=400)


@lead_required
@require_GET
def judge_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = judge_selectors.job_get(job_id=job_id)
    agreement = judge_selectors.job_agreement(job=job)
    rows = zip(agreement["labels"], agreement["confusion"], strict=True) if agreement else []
    context = {"job": job, "agreement": agreement, "confusion": [{"label": k, "counts": c} for k, c in rows]}
    return render(request, "training/judge_job.html", context)


@lead_required
@require_GET
def judge_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    return job_progress(request, judge_selectors.job_get(job_id=job_id), "training/_judge_progress.html")


@lead_required
@require_POST
def judge_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = judge_selectors.job_get(job_id=job_id)
    return job_cancel(request, job, cancel=judge_job_cancel, title=f"Judge job #{job.id}", page="training:judge_job")
