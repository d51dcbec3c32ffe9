"""API token authentication: knox's hashed, expiring tokens, without knox's writes on every request."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; an expired token is refused, saying so.

    knox deletes the user's expired tokens while authenticating (a query and maybe a delete on every call, GETs
    included). Here an expired token is only refused: it stays in its owner's list marked expired, and is removed when
    they next create a token (`annotate.services.tokens`).
    """

    def _cleanup_token(self, auth_token) -> bool:
        return auth_token.expiry is not None and auth_token.expiry <= timezone.now()

    def authenticate_credentials(self, token: bytes):
        try:
            return super().authenticate_credentials(token)
        except AuthenticationFailed:
            # Only a caller holding the whole key learns that it expired (the digest must match).
            digest = hash_token(token.decode("utf-8", "replace"))
            if AuthToken.objects.filter(digest=digest, expiry__lte=timezone.now()).exists():
                raise AuthenticationFailed(
                    "This token has expired: create a new one on /account/tokens/ or with POST /api/v1/tokens."
                ) from None
            raise


class ExpiringTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme for it: knox's (`Authorization: Token <key>`), registered for the subclass."""

    target_class = "annotate.api.authentication.ExpiringTokenAuthentication"
