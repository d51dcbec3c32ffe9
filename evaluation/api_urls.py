from __future__ import annotations

from django.urls import path

from evaluation import api

urlpatterns = [
    path("leaderboard", api.leaderboard, name="api_leaderboard"),
]
