"""Uploading judgments over HTTP; the rules are the judgment import service's, the size limit IMPORT_MAX_BYTES."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.api.importing import checked_upload
from annotate.api.serializers import ImportUploadSerializer
from annotate.models import Campaign
from annotate.permissions import IsLead
from annotate.services.importing import ImportRejected
from annotate.services.judgment_imports import import_judgments
from config.api import SLUG_PATH, errors


@extend_schema(
    parameters=[SLUG_PATH],
    request={"multipart/form-data": ImportUploadSerializer},
    responses={201: OpenApiTypes.OBJECT, **errors(400, 404, 413)},
)
@api_view(["POST"])
@permission_classes([IsLead])
@parser_classes([MultiPartParser, FileUploadParser])
def campaign_judgment_import(request: Request, slug: str) -> Response:
    """Upload judgments as JSONL (multipart field `file`, or the raw body): 201 with counts, 400 with every
    `line N: field: problem` under `lines` (nothing stored), 413 past IMPORT_MAX_BYTES, 404 for an unknown campaign."""
    campaign = get_object_or_404(Campaign, slug=slug)
    upload = checked_upload(request)
    try:
        result = import_judgments(campaign_slug=campaign.slug, lines=upload)
    except ImportRejected as exc:
        raise ValidationError({"lines": exc.errors}) from exc
    return Response(result.as_dict(), status=201)
