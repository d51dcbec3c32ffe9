"""Training pages (leads only): runs list, launch form, run page with live progress, report, comparison."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate import selectors as annotate_selectors
from annotate.permissions import lead_required
from config.ids import read_query
from training import selectors
from training.forms import LaunchQuery, MetricsQuery, RegisterModelForm, RunForm
from training.presets import DEFAULT_PRESET, PRESETS
from training.report import compare_rows, report_context
from training.services import RunRejected, artifacts, base_models, launch, lifecycle

# htmx stops polling an element when its response has this status.
STOP_POLLING = 286


@lead_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    lifecycle.runs_mark_lost()
    context = {
        "runs": list(selectors.run_list()[:100]),
        "base_model_count": selectors.base_model_list().count(),
        "snapshots": list(annotate_selectors.snapshot_list()[:5]),
    }
    return render(request, "training/run_list.html", context)


@lead_required
def run_new(request: HttpRequest) -> HttpResponse:
    preset = request.GET.get("preset") or request.POST.get("preset") or DEFAULT_PRESET
    preset = preset if preset in PRESETS else DEFAULT_PRESET
    if request.method == "POST":
        form = RunForm(request.POST, preset=preset)
        if form.is_valid():
            try:
                run = launch.run_launch(
                    snapshot_id=form.cleaned_data["snapshot"],
                    base_model_id=form.cleaned_data["base_model"].id,
                    preset=form.cleaned_data["preset"],
                    overrides=form.overrides(),
                    launched_by=request.user,
                )
            except RunRejected as exc:
                form.add_service_errors(exc.errors)
            else:
                messages.success(request, f"Run #{run.id} queued.")
                return redirect("training:run_detail", run_id=run.id)
        return render(request, "training/run_new.html", {"form": form, "presets": PRESETS}, status=400)
    query = read_query(request, LaunchQuery)
    initial = {"preset": preset, **{key: value for key, value in (query or {}).items() if value is not None}}
    form = RunForm(initial=initial, preset=preset)
    template = "training/_settings_fields.html" if request.htmx else "training/run_new.html"
    return render(request, template, {"form": form, "presets": PRESETS}, status=200 if query is not None else 400)


def _run_context(run) -> dict:
    return {"run": run, "log_tail": selectors.run_log_tail(run=run)}


@lead_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    lifecycle.runs_mark_lost()
    run = selectors.run_get(run_id=run_id)
    context = {**_run_context(run), "report": report_context(run=run)}
    return render(request, "training/run_detail.html", context)


@lead_required
@require_GET
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The self-polling status card; once the run has ended it answers 286 and reloads the page for the report."""
    lifecycle.runs_mark_lost()
    run = selectors.run_get(run_id=run_id)
    response = render(request, "training/_progress.html", _run_context(run))
    if not run.is_active and request.htmx:
        response.status_code = STOP_POLLING
        response["HX-Refresh"] = "true"
    return response


@lead_required
@require_GET
def run_metrics(request: HttpRequest, run_id: int) -> JsonResponse:
    run = selectors.run_get(run_id=run_id)
    query = MetricsQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({field: list(errors) for field, errors in query.errors.items()}, status=400)
    return JsonResponse(selectors.run_metric_series(run=run, after=query.cleaned_data["after"] or 0))


@lead_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_get(run_id=run_id)
    try:
        lifecycle.run_cancel(run_id=run.id)
    except RunRejected as exc:
        messages.error(request, exc.errors[0])
    else:
        messages.success(request, f"Run #{run.id}: cancellation requested.")
    return redirect("training:run_detail", run_id=run.id)


@lead_required
@require_POST
def run_resume(request: HttpRequest, run_id: int) -> HttpResponse:
    lifecycle.runs_mark_lost()
    run = selectors.run_get(run_id=run_id)
    try:
        lifecycle.run_resume(run_id=run.id)
    except RunRejected as exc:
        messages.error(request, exc.errors[0])
    else:
        messages.success(request, f"Run #{run.id} queued to resume from its last checkpoint.")
    return redirect("training:run_detail", run_id=run.id)


@lead_required
@require_GET
def run_adapter(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_get(run_id=run_id)
    try:
        path = artifacts.adapter_zip(run=run)
    except RunRejected as exc:
        raise Http404(exc.errors[0]) from None
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name)


@lead_required
@require_GET
def run_compare(request: HttpRequest) -> HttpResponse:
    runs = list(selectors.run_list().filter(status="succeeded")[:100])
    ids = [request.GET.get(key, "") for key in ("a", "b")]
    ids = [int(i) if i.isdigit() else None for i in ids]
    if ids == [None, None] and len(runs) >= 2:
        ids = [runs[1].id, runs[0].id]
    context = {"runs": runs, "selects": list(zip("ab", ids, strict=True)), "chosen": []}
    if None not in ids and "a" in request.GET:
        chosen = [selectors.run_get(run_id=i) for i in ids]
        reports = [report_context(run=run) for run in chosen]
        context.update(chosen=chosen, rows=compare_rows(*chosen), columns=list(zip(chosen, reports, strict=True)))
    return render(request, "training/run_compare.html", context)


@lead_required
def model_list(request: HttpRequest) -> HttpResponse:
    form = RegisterModelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                model = base_models.base_model_register(registered_by=request.user, **form.cleaned_data)
            except RunRejected as exc:
                form.add_error("path", exc.errors[0])
            else:
                messages.success(request, f"Registered {model.name} ({model.parameter_count:,} parameters).")
                return redirect("training:model_list")
        status = 400
    context = {"form": form, "models": selectors.base_model_list()}
    return render(request, "training/model_list.html", context, status=status)
