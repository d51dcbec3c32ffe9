from __future__ import annotations

from django.urls import path

from evaluation import api, campaign_api

urlpatterns = [
    path("leaderboard", api.leaderboard, name="api_leaderboard"),
    path("evaluations", campaign_api.evaluations, name="api_evaluations"),
    path("evaluations/<id:evaluation_id>", campaign_api.evaluation_detail, name="api_evaluation_detail"),
]
