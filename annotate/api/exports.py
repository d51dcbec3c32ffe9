"""Dataset snapshots over HTTP: export one (`POST /api/v1/snapshots`, followed at `GET /api/v1/export-jobs/<id>`),
list them, fetch their files."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate import selectors
from annotate.api.serializers import (
    ExportJobSerializer,
    ExportRequestSerializer,
    SnapshotCreatedSerializer,
    SnapshotDetailSerializer,
    SnapshotListSerializer,
)
from annotate.export_policy import ExportPolicy
from annotate.models import Campaign, DatasetSnapshot, ExportJob
from annotate.permissions import IsLead
from annotate.services.export_jobs import export_job_create, export_job_progress
from annotate.services.exporting import ExportError
from config.api import errors, rejected


def _snapshot_json(request: Request, snapshot: DatasetSnapshot) -> dict:
    names = [*snapshot.manifest.get("files", {}), "manifest.json"]
    return {
        "id": snapshot.id,
        "version": snapshot.version,
        "campaigns": [campaign.slug for campaign in snapshot.campaigns.all()],
        "policy": snapshot.policy,
        "counts": snapshot.manifest.get("counts", {}),
        "manifest_sha256": snapshot.manifest_sha256,
        "created_by": snapshot.created_by.username if snapshot.created_by else None,
        "created_at": snapshot.created_at.isoformat(),
        "files": {
            name: request.build_absolute_uri(reverse("api_snapshot_file", args=[snapshot.id, name])) for name in names
        },
    }


def _campaigns(slugs: list[str]) -> list[Campaign]:
    found = {c.slug: c for c in Campaign.objects.filter(slug__in=slugs).select_related("rubric")}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise ExportError(f"campaigns: no campaign named {', '.join(missing)}")
    return list(found.values())


@extend_schema(
    methods=["GET"],
    operation_id="snapshots_list",
    request=None,
    responses={200: SnapshotListSerializer, **errors()},
    summary="List snapshots",
)
@extend_schema(
    methods=["POST"],
    request=ExportRequestSerializer,
    responses={
        201: OpenApiResponse(SnapshotCreatedSerializer, description="Exported at once: the snapshot and its job."),
        202: OpenApiResponse(ExportJobSerializer, description="Queued: follow `status_url` (also `Location`)."),
        **errors(400),
    },
    summary="Export a snapshot",
)
@api_view(["GET", "POST"])
@permission_classes([IsLead])
def snapshots(request: Request) -> Response:
    """GET: every snapshot, newest first. POST {"campaigns": [slug, ...], "policy": {...}}: export a new one.

    A small export runs at once: 201 with the snapshot (and its job). A large one is queued: 202 with the job,
    whose `status_url` gives the snapshot id once it is written.
    """
    if request.method == "GET":
        return Response({"snapshots": [_snapshot_json(request, s) for s in selectors.snapshot_list()]})
    submitted = ExportRequestSerializer(data=request.data)
    submitted.is_valid(raise_exception=True)
    try:
        job = export_job_create(
            campaigns=_campaigns(submitted.validated_data["campaigns"]),
            policy=submitted.validated_data.get("policy") or ExportPolicy(),
            requested_by=request.user,
        )
    except ExportError as exc:
        raise rejected([str(exc)]) from exc
    if job.status == ExportJob.Status.FAILED:
        raise rejected([job.error])
    if job.snapshot_id:
        return Response({**_snapshot_json(request, job.snapshot), "job": _job_json(request, job)}, status=201)
    status_url = _job_json(request, job)["status_url"]
    return Response(_job_json(request, job), status=202, headers={"Location": status_url})


def _job_json(request: Request, job: ExportJob) -> dict:
    done, total = export_job_progress(job=job)
    snapshot_url = None
    if job.snapshot_id:
        snapshot_url = request.build_absolute_uri(reverse("api_snapshot_detail", args=[job.snapshot_id]))
    return {
        "id": job.id,
        "status": job.status,
        "status_url": request.build_absolute_uri(reverse("api_export_job", args=[job.id])),
        "pairs_done": done,
        "total_pairs": total,
        "error": job.error or None,
        "snapshot_id": job.snapshot_id,
        "snapshot_url": snapshot_url,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


@extend_schema(responses={200: ExportJobSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def export_job_detail(request: Request, job_id: int) -> Response:
    """Where a queued export stands; `snapshot_id` is set once it succeeded, `error` once it failed."""
    return Response(_job_json(request, get_object_or_404(ExportJob, id=job_id)))


def _get(snapshot_id: int) -> DatasetSnapshot:
    try:
        return selectors.snapshot_get(snapshot_id=snapshot_id)
    except DatasetSnapshot.DoesNotExist:
        raise Http404("No such snapshot") from None


@extend_schema(responses={200: SnapshotDetailSerializer, **errors(404)})
@api_view(["GET"])
@permission_classes([IsLead])
def snapshot_detail(request: Request, snapshot_id: int) -> Response:
    snapshot = _get(snapshot_id)
    return Response({**_snapshot_json(request, snapshot), "manifest": snapshot.manifest})


@extend_schema(
    responses={
        (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY, description="A JSONL data file."),
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="manifest.json"),
        **errors(404),
    }
)
@api_view(["GET"])
@permission_classes([IsLead])
def snapshot_file(request: Request, snapshot_id: int, name: str) -> FileResponse:
    snapshot = _get(snapshot_id)
    try:
        path = selectors.snapshot_file_path(snapshot=snapshot, name=name)
    except FileNotFoundError:
        raise Http404("No such file in this snapshot") from None
    content_type = "application/json" if name.endswith(".json") else "application/x-ndjson"
    return FileResponse(path.open("rb"), content_type=content_type, filename=name)
