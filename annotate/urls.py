from __future__ import annotations

from django.urls import path

from annotate.views import home, importing

urlpatterns = [
    path("", home.home, name="home"),
    path("imports/", importing.import_upload, name="import_upload"),
]
