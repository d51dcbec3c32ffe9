"""Account pages: one's own API tokens, and the page shown when sign-in is paused after repeated failures."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from knox.settings import knox_settings

from annotate import token_selectors
from annotate.permissions import reviewer_required
from annotate.services.tokens import TokenNotFound, api_token_create, api_token_revoke, api_token_rotate


def _tokens_page(request: HttpRequest, *, new_key: str | None = None, status: int = 200) -> HttpResponse:
    context = {
        "tokens": token_selectors.api_tokens(user=request.user),
        "new_key": new_key,
        "ttl_days": knox_settings.TOKEN_TTL.days,
    }
    return render(request, "annotate/account/tokens.html", context, status=status)


@reviewer_required
@require_GET
def account_tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request)


@reviewer_required
@require_POST
def account_token_create(request: HttpRequest) -> HttpResponse:
    """The new key is in this answer only (not in a redirect's session): it is never stored in clear."""
    return _tokens_page(request, new_key=api_token_create(user=request.user), status=201)


@reviewer_required
@require_POST
def account_token_rotate(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        raw_key = api_token_rotate(user=request.user, prefix=prefix)
    except TokenNotFound as exc:
        raise Http404("No token of yours has this prefix.") from exc
    return _tokens_page(request, new_key=raw_key, status=201)


@reviewer_required
@require_POST
def account_token_revoke(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        api_token_revoke(user=request.user, prefix=prefix)
    except TokenNotFound as exc:
        raise Http404("No token of yours has this prefix.") from exc
    messages.success(request, f"Token {prefix}… revoked: it no longer works.")
    return redirect("account_tokens")


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE): the app's layout, and when to try again."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
        "retry_at": timezone.now() + cool_off,
        "cooloff_minutes": round(cool_off.total_seconds() / 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)
