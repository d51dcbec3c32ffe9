from __future__ import annotations

from django.urls import path

from annotate.api import exports, importing, judgment_imports, protection, quality, reviewing, tokens

urlpatterns = [
    path("campaigns/<slug:slug>/imports", importing.campaign_import, name="api_campaign_import"),
    path(
        "campaigns/<slug:slug>/judgment-imports",
        judgment_imports.campaign_judgment_import,
        name="api_campaign_judgment_import",
    ),
    path("campaigns/<slug:slug>/quality", quality.campaign_quality, name="api_campaign_quality"),
    path("campaigns/<slug:slug>/protect", protection.campaign_protect, name="api_campaign_protect"),
    path("campaigns/<slug:slug>/next", reviewing.next_assignment, name="api_next_assignment"),
    path("assignments/<id:assignment_id>/judgment", reviewing.assignment_judgment, name="api_assignment_judgment"),
    path("snapshots", exports.snapshots, name="api_snapshots"),
    path("snapshots/<id:snapshot_id>", exports.snapshot_detail, name="api_snapshot_detail"),
    path("snapshots/<id:snapshot_id>/files/<path:name>", exports.snapshot_file, name="api_snapshot_file"),
    path("export-jobs/<id:job_id>", exports.export_job_detail, name="api_export_job"),
    path("tokens", tokens.tokens, name="api_tokens"),
    path("tokens/<str:prefix>", tokens.token_detail, name="api_token_detail"),
    path("tokens/<str:prefix>/rotate", tokens.token_rotate, name="api_token_rotate"),
]
