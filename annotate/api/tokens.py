"""A user's own API tokens: list, create (the key is in the answer, once), revoke, rotate."""

from __future__ import annotations

from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from annotate import token_selectors
from annotate.permissions import IsReviewer
from annotate.services.tokens import TokenNotFound, api_token_create, api_token_revoke, api_token_rotate
from annotate.token_selectors import TokenInfo


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


@api_view(["GET", "POST"])
@permission_classes([IsReviewer])
def tokens(request: Request) -> Response:
    """GET: my tokens (prefix, created, expires; never a key). POST: a new token, 201 with its key, shown only now."""
    if request.method == "POST":
        return _created(request, api_token_create(user=request.user))
    return Response({"tokens": [_token_json(token) for token in token_selectors.api_tokens(user=request.user)]})


@api_view(["DELETE"])
@permission_classes([IsReviewer])
def token_detail(request: Request, prefix: str) -> Response:
    """204 once revoked; 404 for a prefix that is not one of my tokens."""
    try:
        api_token_revoke(user=request.user, prefix=prefix)
    except TokenNotFound:
        return Response({"detail": "No token of yours has this prefix."}, status=404)
    return Response(status=204)


@api_view(["POST"])
@permission_classes([IsReviewer])
def token_rotate(request: Request, prefix: str) -> Response:
    """201 with a new key replacing the token `prefix` (which stops working now); 404 if it is not mine."""
    try:
        raw_key = api_token_rotate(user=request.user, prefix=prefix)
    except TokenNotFound:
        return Response({"detail": "No token of yours has this prefix."}, status=404)
    return _created(request, raw_key)
