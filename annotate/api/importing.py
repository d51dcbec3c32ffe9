"""Uploading an import file over HTTP; the rules are the import service's, the size limit IMPORT_MAX_BYTES."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.api.serializers import ImportQuerySerializer, ImportResultSerializer, ImportUploadSerializer
from annotate.permissions import IsLead
from annotate.services.importing import ImportRejected, import_comparisons, import_size_problem
from config.api import SLUG_PATH, PayloadTooLarge, errors


def checked_upload(request: Request):
    """The uploaded file, refused by its declared size before the body is parsed and by its real size after."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    problem = import_size_problem(int(declared)) if declared.isdigit() else None
    if problem:
        raise PayloadTooLarge({"file": [problem]})
    upload = request.data.get("file")
    if upload is None:
        raise ValidationError({"file": ["no file uploaded (multipart field 'file')"]})
    problem = import_size_problem(upload.size)
    if problem:
        raise PayloadTooLarge({"file": [problem]})
    return upload


@extend_schema(
    parameters=[SLUG_PATH, ImportQuerySerializer],
    request={"multipart/form-data": ImportUploadSerializer},
    responses={201: ImportResultSerializer, **errors(400, 404, 413)},
)
@api_view(["POST"])
@permission_classes([IsLead])
@parser_classes([MultiPartParser, FileUploadParser])
def campaign_import(request: Request, slug: str) -> Response:
    """Upload a JSONL file (multipart field `file`, or the raw body with a filename);
    ?pairs=all|adjacent|across-models&locale=CODE&allow_empty=1&allow_identical=1.

    All or nothing: a file with problems is a 400 with every one under `lines` (`["line N: field: problem", ...]`)
    and nothing is written; a bad request is a 400 on `file`, `pairs` or `locale`; a file over IMPORT_MAX_BYTES a 413.
    """
    query = ImportQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    upload = checked_upload(request)
    try:
        result = import_comparisons(
            campaign_slug=slug,
            data=upload.read(),
            pairs=query.validated_data["pairs"],
            default_locale=query.validated_data.get("locale"),
            allow_empty=query.validated_data["allow_empty"],
            allow_identical=query.validated_data["allow_identical"],
        )
    except ImportRejected as exc:
        raise ValidationError({"lines": exc.errors}) from exc
    return Response(
        {
            "campaign": result.campaign.slug,
            "prompts_created": result.prompts_created,
            "candidates_created": result.candidates_created,
            "comparisons_created": result.comparisons_created,
            "locales_added": result.locales_added,
        },
        status=201,
    )
