from __future__ import annotations

from django.urls import path

from evaluation import campaign_views, views

app_name = "evaluation"
urlpatterns = [
    path("leaderboard", views.leaderboard, name="leaderboard"),
    path("runs/win-rates", views.run_win_rate_cells, name="run_win_rates"),
    path("runs/<id:run_id>/human-evaluation", views.run_human_evaluation, name="run_human_evaluation"),
    path("runs/<id:run_id>/evaluate", campaign_views.evaluate_run, name="evaluate_run"),
    path("campaigns/<id:evaluation_id>/", campaign_views.evaluation_detail, name="evaluation_detail"),
]
