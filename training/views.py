"""Training pages (leads only): runs list, launch form, run page with live progress, report, comparison."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from annotate import selectors as annotate_selectors
from annotate.permissions import lead_required
from config.ids import InvalidId, parse_ids, read_query
from training import selectors
from training.forms import LaunchQuery, MetricsQuery, RegisterModelForm, RunForm
from training.generation_selectors import run_lineage
from training.job_views import polled_card
from training.presets import DEFAULT_PRESET, PRESETS
from training.report import compare_rows, compare_series, report_context
from training.services import RunRejected, artifacts, base_models, launch, lifecycle

# The runs list's sortable columns: (sort key, header); numbers sort best first on the first click.
SORT_COLUMNS = (
    ("accuracy", "Held-out acc."),
    ("lift", "Lift"),
    ("kl", "KL / seq"),
    ("duration", "Duration"),
    ("pairs_per_s", "Pairs/s"),
    ("created", "Launched"),
)
MAX_COMPARED = 20


def _sort_links(sort: str) -> list[dict[str, str]]:
    """Each column's header link: descending first, ascending when it is already the descending sort."""
    return [
        {
            "label": label,
            "href": f"?sort={key}" if sort == f"-{key}" else f"?sort=-{key}",
            "arrow": "▼" if sort == f"-{key}" else "▲" if sort == key else "",
        }
        for key, label in SORT_COLUMNS
    ]


@lead_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "")
    sort = sort if sort.lstrip("-") in selectors.RUN_SORTS else selectors.DEFAULT_RUN_SORT
    context = {
        "runs": list(selectors.run_list(sort=sort)[:100]),
        "sort_links": _sort_links(sort),
        "workers": selectors.worker_list(),
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
                    name=form.cleaned_data["name"],
                    notes=form.cleaned_data["notes"],
                    snapshot_id=form.cleaned_data["snapshot"],
                    base_model_id=form.cleaned_data["base_model"].id,
                    preset=form.cleaned_data["preset"],
                    overrides=form.overrides(),
                    launched_by=request.user,
                    parent_run_id=form.cleaned_data["parent_run"],
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
    context = {"run": run, "log_tail": selectors.run_log_tail(run=run)}
    if run.status == run.Status.QUEUED:
        context["live_workers"] = selectors.live_workers().count()
    return context


@lead_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_get(run_id=run_id)
    context = {**_run_context(run), "report": report_context(run=run), "chain": run_lineage(run=run)}
    return render(request, "training/run_detail.html", context)


@lead_required
@require_GET
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The self-polling status card; once the run has ended (or shows lost) it answers 286 and reloads the page."""
    run = selectors.run_get(run_id=run_id)
    response = render(request, "training/_progress.html", _run_context(run))
    return polled_card(request, response, ended=run.shown_status not in run.ACTIVE)


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


def parse_run_ids(query: QueryDict) -> list[int]:
    """`?runs=3,5,8` (or `runs` repeated, as a form of checkboxes sends it) → [3, 5, 8]; ValueError naming the field."""
    try:
        ids = parse_ids(query.getlist("runs"))
    except InvalidId as bad:
        raise ValueError(f"runs: {bad.text!r} is not a run id; give ids separated by commas, e.g. runs=3,5") from None
    if len(ids) > MAX_COMPARED:
        raise ValueError(f"runs: at most {MAX_COMPARED} runs can be compared at once, got {len(ids)}")
    return ids


@lead_required
@require_GET
def run_compare(request: HttpRequest) -> HttpResponse:
    """Any number of runs: overlaid curves, headline numbers and the settings that differ."""
    context = {"runs": list(selectors.run_list()[:100]), "chosen": [], "chosen_ids": [], "error": ""}
    try:
        ids = parse_run_ids(request.GET)
    except ValueError as exc:
        context["error"] = str(exc)
        return render(request, "training/run_compare.html", context, status=400)
    if ids:
        chosen = selectors.runs_by_ids(run_ids=ids)
        context.update(
            chosen=chosen,
            chosen_ids=ids,
            rows=compare_rows(chosen),
            series=compare_series(chosen, {run.id: selectors.run_metric_series(run=run) for run in chosen}),
        )
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
