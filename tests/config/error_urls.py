"""The app's URLs plus one view that fails, for the 500 page tests."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401 (a urls module names its own handlers)
from config.urls import urlpatterns as app_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    database_url = settings.DATABASE_URL  # noqa: F841 (a frame variable: the debug page lists it)
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("api/boom/", boom), *app_urlpatterns]
