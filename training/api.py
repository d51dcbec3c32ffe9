"""REST API for training runs (leads only): launch, read, cancel, resume, download the adapter."""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from config.api import conflict, errors, rejected
from training import selectors
from training.serializers import RunLaunchSerializer, RunSerializer, WorkerSerializer
from training.services import RunRejected, artifacts, launch, lifecycle


@extend_schema(methods=["GET"], request=None, responses={200: RunSerializer(many=True), **errors()})
@extend_schema(methods=["POST"], request=RunLaunchSerializer, responses={201: RunSerializer, **errors(400)})
@api_view(["GET", "POST"])
@permission_classes([IsLead])
def runs(request: Request) -> Response:
    """GET: the latest runs. POST {"snapshot": id, "base_model": id, "preset": "quick", "overrides": {...},
    "name": "...", "notes": "...", "parent_run": id} → 201."""
    if request.method == "GET":
        return Response([selectors.run_summary(run=run) for run in selectors.run_list()[:50]])
    submitted = RunLaunchSerializer(data=request.data)
    submitted.is_valid(raise_exception=True)
    data = submitted.validated_data
    try:
        run = launch.run_launch(
            snapshot_id=data["snapshot"],
            base_model_id=data["base_model"],
            preset=data["preset"],
            overrides=data["overrides"],
            launched_by=request.user,
            name=data["name"],
            notes=data["notes"],
            parent_run_id=data["parent_run"],
        )
    except RunRejected as exc:
        raise rejected(exc.errors) from exc
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run.id)), status=201)


@extend_schema(responses={200: RunSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def run_detail(request: Request, run_id: int) -> Response:
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run_id)))


@extend_schema(request=None, responses={200: RunSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def run_cancel(request: Request, run_id: int) -> Response:
    run = selectors.run_get(run_id=run_id)
    try:
        lifecycle.run_cancel(run_id=run.id)
    except RunRejected as exc:
        raise conflict(exc.errors) from exc
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run.id)))


@extend_schema(request=None, responses={202: RunSerializer, **errors(404, 409)})
@api_view(["POST"])
@permission_classes([IsLead])
def run_resume(request: Request, run_id: int) -> Response:
    run = selectors.run_get(run_id=run_id)
    try:
        lifecycle.run_resume(run_id=run.id)
    except RunRejected as exc:
        raise conflict(exc.errors) from exc
    return Response(selectors.run_summary(run=selectors.run_get(run_id=run.id)), status=202)


@extend_schema(
    responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="the adapter"), **errors(404)}
)
@api_view(["GET"])
@permission_classes([IsLead])
def run_adapter(request: Request, run_id: int) -> FileResponse:
    run = selectors.run_get(run_id=run_id)
    try:
        path = artifacts.adapter_zip(run=run)
    except RunRejected as exc:
        raise Http404(exc.errors[0]) from None
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip")


@extend_schema(responses={200: WorkerSerializer(many=True), **errors()})
@api_view(["GET"])
@permission_classes([IsLead])
def training_workers(request: Request) -> Response:
    """The training workers seen in the last day: device, live or not, the run each is training."""
    return Response([selectors.worker_summary(worker=worker) for worker in selectors.worker_list()])
