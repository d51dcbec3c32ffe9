"""A lead marks a campaign's prompts protected: `POST /api/v1/campaigns/<slug>/protect`."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate.models import Campaign
from annotate.permissions import IsLead
from annotate.services.protection import ProtectRejected, campaign_prompts_protect
from config.api import SLUG_PATH, TextField, errors, rejected


class ProtectRequestSerializer(serializers.Serializer):
    prompts = serializers.ListField(
        child=TextField(max_length=200),
        required=False,
        max_length=10000,
        help_text="External ids of the campaign's prompts to protect; absent or empty: all of them",
    )


class ProtectResultSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    newly_protected = serializers.IntegerField(help_text="Prompts protected by this call (already protected: 0)")


@extend_schema(
    parameters=[SLUG_PATH],
    request=ProtectRequestSerializer,
    responses={200: ProtectResultSerializer, **errors(400, 404)},
    summary="Protect a campaign's prompts",
)
@api_view(["POST"])
@permission_classes([IsLead])
def campaign_protect(request: Request, slug: str) -> Response:
    """Protect the campaign's prompts (or those named): no export puts them in a training split again, in any
    campaign. Idempotent."""
    campaign = get_object_or_404(Campaign, slug=slug)
    submitted = ProtectRequestSerializer(data=request.data)
    submitted.is_valid(raise_exception=True)
    try:
        added = campaign_prompts_protect(
            campaign=campaign, external_ids=submitted.validated_data.get("prompts", []), created_by=request.user
        )
    except ProtectRejected as exc:
        raise rejected({field: " ".join(messages) for field, messages in exc.errors.items()}) from exc
    return Response({"campaign": campaign.slug, "newly_protected": added})
