from __future__ import annotations

from django.urls import path

from training import api

urlpatterns = [
    path("runs", api.runs, name="api_runs"),
    path("runs/<id:run_id>", api.run_detail, name="api_run_detail"),
    path("runs/<id:run_id>/cancel", api.run_cancel, name="api_run_cancel"),
    path("runs/<id:run_id>/resume", api.run_resume, name="api_run_resume"),
    path("runs/<id:run_id>/adapter", api.run_adapter, name="api_run_adapter"),
    path("training-workers", api.training_workers, name="api_training_workers"),
]
