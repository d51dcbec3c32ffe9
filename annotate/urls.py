from __future__ import annotations

from django.urls import path

from annotate.views import (
    accounts,
    dashboard,
    escalations,
    exports,
    home,
    importing,
    judgment_imports,
    reviewing,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("imports/", importing.import_upload, name="import_upload"),
    path("imports/judgments/", judgment_imports.judgment_import_upload, name="judgment_import_upload"),
    path("locales/", judgment_imports.locale_list, name="locale_list"),
    path(
        "locales/reviewers/<id:reviewer_id>/",
        judgment_imports.reviewer_qualifications,
        name="reviewer_qualifications",
    ),
    path("review/<slug:slug>/", reviewing.review_campaign, name="review_campaign"),
    path("review/<slug:slug>/next", reviewing.review_next, name="review_next"),
    path("review/<slug:slug>/<id:assignment_id>/submit", reviewing.review_submit, name="review_submit"),
    path("review/<slug:slug>/<id:assignment_id>/skip", reviewing.review_skip, name="review_skip"),
    path("review/<slug:slug>/undo", reviewing.review_undo, name="review_undo"),
    path("escalations/", escalations.escalation_list, name="escalation_list"),
    path("escalations/<id:judgment_id>/resolve", escalations.escalation_resolve, name="escalation_resolve"),
    path("quality/", dashboard.quality_index, name="quality_index"),
    path("quality/<slug:slug>/", dashboard.quality_campaign, name="quality_campaign"),
    path("quality/<slug:slug>/protect", dashboard.campaign_protect, name="campaign_protect"),
    path("quality/<slug:slug>/reviewers/<id:reviewer_id>/", dashboard.quality_reviewer, name="quality_reviewer"),
    path(
        "quality/<slug:slug>/reviewers/<id:reviewer_id>/flag",
        dashboard.quality_reviewer_flag,
        name="quality_reviewer_flag",
    ),
    path(
        "quality/<slug:slug>/reviewers/<id:reviewer_id>/unflag",
        dashboard.quality_reviewer_unflag,
        name="quality_reviewer_unflag",
    ),
    path("quality/<slug:slug>/pairs/<id:comparison_id>/", dashboard.quality_pair, name="quality_pair"),
    path("quality/<slug:slug>/csv/<slug:table>/", dashboard.quality_csv, name="quality_csv"),
    path("exports/", exports.export_list, name="export_list"),
    path("exports/new/", exports.export_new, name="export_new"),
    path("exports/preview/", exports.export_preview_counts, name="export_preview"),
    path("exports/jobs/<id:job_id>/", exports.export_job, name="export_job"),
    path("exports/<id:snapshot_id>/", exports.export_detail, name="export_detail"),
    path("exports/<id:snapshot_id>/files/<path:name>", exports.export_file, name="export_file"),
    path("account/tokens/", accounts.account_tokens, name="account_tokens"),
    path("account/tokens/new", accounts.account_token_create, name="account_token_create"),
    path("account/tokens/<str:prefix>/rotate", accounts.account_token_rotate, name="account_token_rotate"),
    path("account/tokens/<str:prefix>/revoke", accounts.account_token_revoke, name="account_token_revoke"),
]
