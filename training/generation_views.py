"""Generation pages (leads only): the Generate form with recent jobs, a job's page and its self-polling card."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate.models import Campaign, Locale
from annotate.permissions import lead_required
from config.ids import read_query
from training import generation_selectors as selectors
from training.forms import GenerateQuery
from training.job_views import job_cancel, job_progress, job_start
from training.selectors import run_get
from training.serializers import GenerationJobInput
from training.services.generation import PAIRING, GenerationRejected, generation_job_cancel, next_round_defaults


def _form_context(values: dict, errors: dict) -> dict:
    return {
        "values": values,
        "errors": errors,
        "model_options": selectors.model_options(),
        "campaigns": Campaign.objects.order_by("slug"),
        "locales": Locale.objects.order_by("code"),
        "pairing": PAIRING,
        "jobs": list(selectors.job_list()[:20]),
    }


def _initial(request: HttpRequest) -> tuple[dict, dict, int]:
    """Defaults, or a "Next round" of ?round_of=RUN prepared by the service; and the page's status (400: bad query)."""
    values = {"samples": 2, "temperature": 0.8, "top_p": 0.95, "max_new_tokens": 256, "seed": 0, "models": []}
    query = read_query(request, GenerateQuery)
    if query is None:
        return values, {}, 400
    if query["round_of"] is None:
        return values, {}, 200
    try:
        return {**values, **next_round_defaults(run=run_get(run_id=query["round_of"]))}, {}, 200
    except GenerationRejected as exc:
        return values, exc.errors, 200


@lead_required
def generate(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        values, errors, status = _initial(request)
        return render(request, "training/generate.html", _form_context(values, errors), status=status)
    fields = {
        key: value for key, value in request.POST.dict().items() if key != "prompts_file"
    }  # an empty box posts ""
    given = GenerationJobInput(data={**fields, "models": request.POST.getlist("models"), **request.FILES.dict()})
    job, errors = job_start(request, given)
    if job is not None:
        messages.success(request, f"Generation #{job.id} queued.")
        return redirect("training:generation_job", job_id=job.id)
    values = {**request.POST.dict(), "models": request.POST.getlist("models")}
    return render(request, "training/generate.html", _form_context(values, errors), status=400)


@lead_required
@require_GET
def generation_job(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "training/generation_job.html", {"job": selectors.job_get(job_id=job_id)})


@lead_required
@require_GET
def generation_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    return job_progress(request, selectors.job_get(job_id=job_id), "training/_generation_progress.html")


@lead_required
@require_POST
def generation_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get(job_id=job_id)
    return job_cancel(
        request, job, cancel=generation_job_cancel, title=f"Generation #{job.id}", page="training:generation_job"
    )
