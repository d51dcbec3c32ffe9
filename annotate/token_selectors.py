"""Reads for API token management: what an owner may see of their tokens (never the key or its digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import CONSTANTS

PREFIX_LENGTH = CONSTANTS.TOKEN_KEY_LENGTH


@dataclass(frozen=True)
class TokenInfo:
    prefix: str
    created: datetime
    expires: datetime | None
    expired: bool


def prefix_of(raw_key: str) -> str:
    return raw_key[:PREFIX_LENGTH]


def api_tokens(*, user: AbstractBaseUser) -> list[TokenInfo]:
    """The user's tokens, newest first, expired ones included (marked) until they create a new one."""
    now = timezone.now()
    return [
        TokenInfo(prefix=key, created=created, expires=expiry, expired=expiry is not None and expiry <= now)
        for key, created, expiry in AuthToken.objects.filter(user=user)
        .order_by("-created")
        .values_list("token_key", "created", "expiry")
    ]


def api_token(*, user: AbstractBaseUser, prefix: str) -> TokenInfo | None:
    return next((token for token in api_tokens(user=user) if token.prefix == prefix), None)
