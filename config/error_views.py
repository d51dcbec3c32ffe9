"""Django's 404 and 500 handlers, answering in JSON under /api/ so that a client never parses an HTML page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        detail = f"No endpoint at {request.path}: the API's endpoints are listed at /api/v1/docs/."
        return JsonResponse({"detail": detail}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        detail = (
            "Something went wrong on our side; it has been logged. Try again, and tell an administrator if it persists."
        )
        return JsonResponse({"detail": detail}, status=500)
    return defaults.server_error(request)
