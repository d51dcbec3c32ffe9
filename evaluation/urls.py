from __future__ import annotations

from django.urls import path

from evaluation import campaign_views

app_name = "evaluation"
urlpatterns = [
    path("runs/<id:run_id>/evaluate", campaign_views.evaluate_run, name="evaluate_run"),
    path("campaigns/<id:evaluation_id>/", campaign_views.evaluation_detail, name="evaluation_detail"),
]
