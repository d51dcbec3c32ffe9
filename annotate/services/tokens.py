"""API tokens: hashed at rest (knox keeps a SHA-512 digest), expiring, created, rotated and revoked by their owner.

The raw key exists only in the return value of `api_token_create` / `api_token_rotate`: show it once. A token is
named by its prefix, the first characters of the key, which is stored in clear so owners can tell tokens apart.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken


class TokenNotFound(Exception):
    """No token of this user has that prefix."""


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser) -> str:
    """A new token for `user`, valid for API_TOKEN_TTL_DAYS; returns the raw key. Their expired tokens go now."""
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    _, raw_key = AuthToken.objects.create(user=user)
    return raw_key


def api_token_revoke(*, user: AbstractBaseUser, prefix: str) -> None:
    """Revoke one of `user`'s tokens; another user's prefix is as unknown as a made-up one."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=prefix).delete()
    if not deleted:
        raise TokenNotFound(prefix)


@transaction.atomic
def api_token_rotate(*, user: AbstractBaseUser, prefix: str) -> str:
    """Replace one of `user`'s tokens by a new one (the old key stops working at once); returns the new raw key."""
    api_token_revoke(user=user, prefix=prefix)
    return api_token_create(user=user)
