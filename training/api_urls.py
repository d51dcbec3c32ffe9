from __future__ import annotations

from django.urls import path

from training import api, generation_api, judge_api, margin_api

urlpatterns = [
    path("runs", api.runs, name="api_runs"),
    path("runs/<id:run_id>", api.run_detail, name="api_run_detail"),
    path("runs/<id:run_id>/cancel", api.run_cancel, name="api_run_cancel"),
    path("runs/<id:run_id>/resume", api.run_resume, name="api_run_resume"),
    path("runs/<id:run_id>/adapter", api.run_adapter, name="api_run_adapter"),
    path("training-workers", api.training_workers, name="api_training_workers"),
    path("generation-jobs", generation_api.generation_jobs, name="api_generation_jobs"),
    path("generation-jobs/<id:job_id>", generation_api.generation_job_detail, name="api_generation_job"),
    path("generation-jobs/<id:job_id>/cancel", generation_api.generation_job_stop, name="api_generation_job_cancel"),
    path("judge-jobs", judge_api.judge_jobs, name="api_judge_jobs"),
    path("judge-jobs/<id:job_id>", judge_api.judge_job_detail, name="api_judge_job"),
    path("judge-jobs/<id:job_id>/cancel", judge_api.judge_job_stop, name="api_judge_job_cancel"),
    path("margin-jobs", margin_api.margin_jobs, name="api_margin_jobs"),
    path("margin-jobs/<id:job_id>", margin_api.margin_job_detail, name="api_margin_job"),
    path("margin-jobs/<id:job_id>/cancel", margin_api.margin_job_stop, name="api_margin_job_cancel"),
]
