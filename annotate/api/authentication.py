"""API token authentication: knox's hashed, expiring tokens, without knox's writes on every request."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; an expired token is refused.

    knox deletes the user's expired tokens while authenticating (a query and maybe a delete on every call, GETs
    included). Here an expired token is only refused: it stays in its owner's list marked expired, and is removed when
    they next create a token (`annotate.services.tokens`).
    """

    def _cleanup_token(self, auth_token) -> bool:
        return auth_token.expiry is not None and auth_token.expiry <= timezone.now()


class ExpiringTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme for it: knox's (`Authorization: Token <key>`), registered for the subclass."""

    target_class = "annotate.api.authentication.ExpiringTokenAuthentication"
