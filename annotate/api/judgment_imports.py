from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.models import Campaign
from annotate.permissions import IsLead
from annotate.services.importing import ImportRejected
from annotate.services.judgment_imports import import_judgments


def import_max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 50 * 1024 * 1024)


@api_view(["POST"])
@permission_classes([IsLead])
@parser_classes([MultiPartParser, FileUploadParser])
def campaign_judgment_import(request: Request, slug: str) -> Response:
    """Upload judgments as JSONL (multipart field `file`, or the raw body): 201 with counts, 400 with every
    `line N: field: problem` (nothing stored), 413 past the upload limit, 404 for an unknown campaign."""
    campaign = get_object_or_404(Campaign, slug=slug)
    upload = request.data.get("file")
    if upload is None:
        return Response({"errors": ["line 0: file: no file uploaded (multipart field 'file')"]}, status=400)
    if upload.size > import_max_bytes():
        return Response({"errors": [f"line 0: file: larger than {import_max_bytes()} bytes"]}, status=413)
    try:
        result = import_judgments(campaign_slug=campaign.slug, lines=upload)
    except ImportRejected as exc:
        return Response({"errors": exc.errors}, status=400)
    return Response(result.as_dict(), status=201)
