from __future__ import annotations

from django.urls import path

from annotate.views import dashboard, exports, home, importing

urlpatterns = [
    path("", home.home, name="home"),
    path("imports/", importing.import_upload, name="import_upload"),
    path("quality/", dashboard.quality_index, name="quality_index"),
    path("quality/<slug:slug>/", dashboard.quality_campaign, name="quality_campaign"),
    path("quality/<slug:slug>/reviewers/<int:reviewer_id>/", dashboard.quality_reviewer, name="quality_reviewer"),
    path("quality/<slug:slug>/csv/<slug:table>/", dashboard.quality_csv, name="quality_csv"),
    path("exports/", exports.export_list, name="export_list"),
    path("exports/new/", exports.export_new, name="export_new"),
    path("exports/preview/", exports.export_preview_counts, name="export_preview"),
    path("exports/<int:snapshot_id>/", exports.export_detail, name="export_detail"),
    path("exports/<int:snapshot_id>/files/<path:name>", exports.export_file, name="export_file"),
]
