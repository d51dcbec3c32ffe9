from __future__ import annotations

from django.urls import path

from training import generation_views, judge_views, margin_views, views

app_name = "training"
urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("new", views.run_new, name="run_new"),
    path("models/", views.model_list, name="model_list"),
    path("compare", views.run_compare, name="run_compare"),
    path("runs/<id:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<id:run_id>/progress", views.run_progress, name="run_progress"),
    path("runs/<id:run_id>/metrics", views.run_metrics, name="run_metrics"),
    path("runs/<id:run_id>/cancel", views.run_cancel, name="run_cancel"),
    path("runs/<id:run_id>/resume", views.run_resume, name="run_resume"),
    path("runs/<id:run_id>/adapter.zip", views.run_adapter, name="run_adapter"),
    path("generate", generation_views.generate, name="generate"),
    path("generation/<id:job_id>/", generation_views.generation_job, name="generation_job"),
    path("generation/<id:job_id>/progress", generation_views.generation_progress, name="generation_progress"),
    path("generation/<id:job_id>/cancel", generation_views.generation_cancel, name="generation_cancel"),
    path("judge", judge_views.judge, name="judge"),
    path("judge-jobs/<id:job_id>/", judge_views.judge_job, name="judge_job"),
    path("judge-jobs/<id:job_id>/progress", judge_views.judge_progress, name="judge_progress"),
    path("judge-jobs/<id:job_id>/cancel", judge_views.judge_cancel, name="judge_cancel"),
    path("margins", margin_views.margins, name="margins"),
    path("margins/<id:job_id>/", margin_views.margin_job, name="margin_job"),
    path("margins/<id:job_id>/progress", margin_views.margin_progress, name="margin_progress"),
    path("margins/<id:job_id>/cancel", margin_views.margin_cancel, name="margin_cancel"),
]
