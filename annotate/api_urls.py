from __future__ import annotations

from django.urls import path

from annotate.api import importing

urlpatterns = [
    path("campaigns/<slug:slug>/imports", importing.campaign_import, name="api_campaign_import"),
]
