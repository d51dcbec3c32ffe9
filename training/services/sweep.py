"""The lost-worker sweep: Celery beat's periodic task and `manage.py sweep_lost_runs` run this one function."""

from __future__ import annotations

from training.services import generation, judge_jobs, lifecycle, margin_jobs


def lost_work_mark() -> int:
    """Fail every run and model job whose worker stopped beating; how many were marked lost."""
    return (
        lifecycle.runs_mark_lost()
        + generation.generation_jobs_mark_lost()
        + judge_jobs.judge_jobs_mark_lost()
        + margin_jobs.margin_jobs_mark_lost()
    )
