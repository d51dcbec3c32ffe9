"""REST API for training runs (leads only): launch, read, cancel, resume, download the adapter."""

from __future__ import annotations

from django.http import FileResponse, Http404
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from training import selectors
from training.presets import DEFAULT_PRESET
from training.services import RunRejected, artifacts, launch, lifecycle


def _id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


@api_view(["GET", "POST"])
@permission_classes([IsLead])
def runs(request: Request) -> Response:
    """GET: the latest runs. POST {"snapshot": id, "base_model": id, "preset": "quick", "overrides": {...},
    "name": "...", "notes": "..."} → 201."""
    if request.method == "GET":
        return Response([selectors.run_summary(run=run) for run in selectors.run_list()[:50]])
    data = request.data if isinstance(request.data, dict) else {}
    errors = [
        f"{key}: required, the id of a {what}"
        for key, what in (("snapshot", "dataset snapshot"), ("base_model", "registered base model"))
        if _id(data.get(key)) is None
    ]
    if data.get("parent_run") is not None and _id(data["parent_run"]) is None:
        errors.append("parent_run: the id of a succeeded run whose adapter this run continues")
    errors += [
        f"{key}: expected a string of at most {limit} characters"
        for key, limit in (("name", 200), ("notes", 10_000))
        if not isinstance(data.get(key, ""), str) or len(data.get(key, "")) > limit
    ]
    if errors:
        return Response({"errors": errors}, status=400)
    try:
        run = launch.run_launch(
            snapshot_id=_id(data["snapshot"]),
            base_model_id=_id(data["base_model"]),
            preset=data.get("preset") or DEFAULT_PRESET,
            overrides=data.get("overrides") or {},
            launched_by=request.user,
            name=data.get("name", ""),
            notes=data.get("notes", ""),
            parent_run_id=_id(data.get("parent_run")),
        )
    except RunRejected as exc:
        return Response({"errors": exc.errors}, status=400)
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run.id)), status=201)


@api_view(["GET"])
@permission_classes([IsLead])
def run_detail(request: Request, run_id: int) -> Response:
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run_id)))


@api_view(["POST"])
@permission_classes([IsLead])
def run_cancel(request: Request, run_id: int) -> Response:
    run = selectors.run_get(run_id=run_id)
    try:
        lifecycle.run_cancel(run_id=run.id)
    except RunRejected as exc:
        return Response({"errors": exc.errors}, status=409)
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run.id)))


@api_view(["POST"])
@permission_classes([IsLead])
def run_resume(request: Request, run_id: int) -> Response:
    run = selectors.run_get(run_id=run_id)
    try:
        lifecycle.run_resume(run_id=run.id)
    except RunRejected as exc:
        return Response({"errors": exc.errors}, status=409)
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run.id)), status=202)


@api_view(["GET"])
@permission_classes([IsLead])
def run_adapter(request: Request, run_id: int) -> FileResponse:
    run = selectors.run_get(run_id=run_id)
    try:
        path = artifacts.adapter_zip(run=run)
    except RunRejected as exc:
        raise Http404(exc.errors[0]) from None
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip")


@api_view(["GET"])
@permission_classes([IsLead])
def training_workers(request: Request) -> Response:
    """The training workers seen in the last day: device, live or not, the run each is training."""
    return Response([selectors.worker_summary(worker=worker) for worker in selectors.worker_list()])
