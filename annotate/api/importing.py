from __future__ import annotations

from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.permissions import IsLead
from annotate.services.importing import ImportRejected, import_comparisons


@api_view(["POST"])
@permission_classes([IsLead])
@parser_classes([MultiPartParser, FileUploadParser])
def campaign_import(request: Request, slug: str) -> Response:
    """Upload a JSONL file (multipart field `file`, or the raw body);
    ?pairs=all|adjacent|across-models&locale=CODE&allow_empty=1&allow_identical=1."""
    upload = request.data.get("file")
    if upload is None:
        return Response({"errors": ["line 0: file: no file uploaded (multipart field 'file')"]}, status=400)
    try:
        result = import_comparisons(
            campaign_slug=slug,
            data=upload.read(),
            pairs=request.query_params.get("pairs", "all"),
            default_locale=request.query_params.get("locale"),
            allow_empty=request.query_params.get("allow_empty") in ("1", "true"),
            allow_identical=request.query_params.get("allow_identical") in ("1", "true"),
        )
    except ImportRejected as exc:
        return Response({"errors": exc.errors}, status=400)
    return Response(
        {
            "campaign": result.campaign.slug,
            "prompts_created": result.prompts_created,
            "candidates_created": result.candidates_created,
            "comparisons_created": result.comparisons_created,
        },
        status=201,
    )
