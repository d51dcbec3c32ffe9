from __future__ import annotations

from django.urls import path

from annotate.views import dashboard, home, importing

urlpatterns = [
    path("", home.home, name="home"),
    path("imports/", importing.import_upload, name="import_upload"),
    path("quality/", dashboard.quality_index, name="quality_index"),
    path("quality/<slug:slug>/", dashboard.quality_campaign, name="quality_campaign"),
    path("quality/<slug:slug>/reviewers/<int:reviewer_id>/", dashboard.quality_reviewer, name="quality_reviewer"),
    path("quality/<slug:slug>/csv/<slug:table>/", dashboard.quality_csv, name="quality_csv"),
]
