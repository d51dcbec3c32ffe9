"""Evaluation-campaign pages (leads only): the "Evaluate with reviewers" form for a run, and one evaluation's page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from annotate.models import Campaign
from annotate.permissions import lead_required
from evaluation import campaign_selectors as selectors
from evaluation.campaign_serializers import EvaluationInput
from evaluation.human_evaluation import human_evaluation_get
from evaluation.services import DEFAULT_SETTINGS, TEST_SPLIT, EvaluationRejected, evaluation_campaign_create
from training.generation_selectors import model_options
from training.models import TrainingRun


def _context(run: TrainingRun, values: dict, errors: dict) -> dict:
    run_value = f"run:{run.id}"
    return {
        "run": run,
        "values": values,
        "errors": errors,
        "baselines": [(value, label) for value, label in model_options() if value != run_value],
        "campaigns": Campaign.objects.order_by("slug"),
        "test_split": TEST_SPLIT,
        "evaluations": list(selectors.evaluation_list().filter(run=run)[:10]),
    }


@lead_required
def evaluate_run(request: HttpRequest, run_id: int) -> HttpResponse:
    """GET: the form, its baseline defaulting to the run's base model. POST: protect the prompts, create the
    campaign and its generation job, then show the evaluation's page."""
    run = get_object_or_404(TrainingRun.objects.select_related("snapshot", "base_model"), id=run_id)
    if request.method != "POST":
        values = {**DEFAULT_SETTINGS, "baseline": f"base:{run.base_model_id}", "overlap": 1, "prompts": TEST_SPLIT}
        return render(request, "evaluation/evaluate.html", _context(run, values, {}))
    given = EvaluationInput(data={**request.POST.dict(), "run": run.id})
    errors = {} if given.is_valid() else dict(given.errors)
    if not errors:
        try:
            evaluation = evaluation_campaign_create(
                run=run,
                baseline=given.validated_data["baseline"],
                overlap=given.validated_data["overlap"],
                prompts=given.validated_data["prompts"],
                settings_values=given.settings_values(),
                requested_by=request.user,
            )
        except EvaluationRejected as exc:
            errors = exc.errors
        else:
            messages.success(
                request, f"Evaluation campaign {evaluation.campaign.slug} created; answers are being generated."
            )
            return redirect("evaluation:evaluation_detail", evaluation_id=evaluation.id)
    return render(request, "evaluation/evaluate.html", _context(run, request.POST.dict(), errors), status=400)


@lead_required
@require_GET
def evaluation_detail(request: HttpRequest, evaluation_id: int) -> HttpResponse:
    evaluation = selectors.evaluation_get(evaluation_id=evaluation_id)
    summary = selectors.evaluation_summary(evaluation=evaluation)
    result = human_evaluation_get(evaluation=evaluation)
    return render(request, "evaluation/detail.html", {"evaluation": evaluation, "summary": summary, "result": result})
