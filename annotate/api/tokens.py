"""A user's own API tokens: list, create (the key is in the answer, once), revoke, rotate."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from annotate import token_selectors
from annotate.permissions import IsReviewer
from annotate.services.tokens import TokenNotFound, api_token_create, api_token_revoke, api_token_rotate
from annotate.token_selectors import TokenInfo
from config.api import errors

NOT_YOURS = "No token of yours has this prefix."


class TokenSerializer(serializers.Serializer):
    prefix = serializers.CharField()
    created = serializers.DateTimeField()
    expires = serializers.DateTimeField(allow_null=True)
    expired = serializers.BooleanField()


class TokenListSerializer(serializers.Serializer):
    tokens = TokenSerializer(many=True)


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(help_text="the key: shown only in this answer")


def _token_json(token: TokenInfo) -> dict:
    return {
        "prefix": token.prefix,
        "created": token.created.isoformat(),
        "expires": token.expires.isoformat() if token.expires else None,
        "expired": token.expired,
    }


def _created(request: Request, raw_key: str) -> Response:
    token = token_selectors.api_token(user=request.user, prefix=token_selectors.prefix_of(raw_key))
    return Response({**_token_json(token), "token": raw_key}, status=201)


@extend_schema(methods=["GET"], operation_id="tokens_list", responses={200: TokenListSerializer, **errors()})
@extend_schema(methods=["POST"], request=None, responses={201: TokenCreatedSerializer, **errors()})
@api_view(["GET", "POST"])
@permission_classes([IsReviewer])
def tokens(request: Request) -> Response:
    """GET: my tokens (prefix, created, expires; never a key). POST: a new token, 201 with its key, shown only now."""
    if request.method == "POST":
        return _created(request, api_token_create(user=request.user))
    return Response({"tokens": [_token_json(token) for token in token_selectors.api_tokens(user=request.user)]})


@extend_schema(responses={204: OpenApiResponse(description="Revoked."), **errors(404)})
@api_view(["DELETE"])
@permission_classes([IsReviewer])
def token_detail(request: Request, prefix: str) -> Response:
    """204 once revoked; 404 for a prefix that is not one of my tokens."""
    try:
        api_token_revoke(user=request.user, prefix=prefix)
    except TokenNotFound:
        raise NotFound(NOT_YOURS) from None
    return Response(status=204)


@extend_schema(request=None, responses={201: TokenCreatedSerializer, **errors(404)})
@api_view(["POST"])
@permission_classes([IsReviewer])
def token_rotate(request: Request, prefix: str) -> Response:
    """201 with a new key replacing the token `prefix` (which stops working now); 404 if it is not mine."""
    try:
        raw_key = api_token_rotate(user=request.user, prefix=prefix)
    except TokenNotFound:
        raise NotFound(NOT_YOURS) from None
    return _created(request, raw_key)
