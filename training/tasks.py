"""Celery tasks: thin shells that pass ids to services."""

from __future__ import annotations

from celery import shared_task

from training.services import generation, judge_jobs, lifecycle, margin_jobs, sweep


# Never retried and acknowledged on receipt (acks_late off): a run is delivered at most once, and the claim in
# run_execute makes even a duplicate delivery do nothing.
@shared_task(bind=True, name="training.tasks.train_run", acks_late=False, max_retries=0, ignore_result=True)
def train_run(self, run_id: int) -> str | None:
    return lifecycle.run_execute(run_id=run_id, worker=self.request.hostname or "")


# Sent by Celery beat (CELERY_BEAT_SCHEDULE) to the default queue: records runs (and generation, judge and margin
# jobs) whose worker went silent as lost.
@shared_task(name="training.tasks.sweep_lost_runs", ignore_result=True)
def sweep_lost_runs() -> int:
    return sweep.lost_work_mark()


# Like train_run: at most once, never retried; the claim in generation_job_execute makes a duplicate do nothing.
@shared_task(bind=True, name="training.tasks.generate_candidates", acks_late=False, max_retries=0, ignore_result=True)
def generate_candidates(self, job_id: int) -> str | None:
    return generation.generation_job_execute(job_id=job_id, worker=self.request.hostname or "")


# Like generate_candidates: at most once, never retried; the claim in judge_job_execute makes a duplicate do nothing.
@shared_task(bind=True, name="training.tasks.judge_pairs", acks_late=False, max_retries=0, ignore_result=True)
def judge_pairs(self, job_id: int) -> str | None:
    return judge_jobs.judge_job_execute(job_id=job_id, worker=self.request.hostname or "")


# Like generate_candidates: at most once, never retried; the claim in margin_job_execute makes a duplicate do nothing.
@shared_task(bind=True, name="training.tasks.score_margins", acks_late=False, max_retries=0, ignore_result=True)
def score_margins(self, job_id: int) -> str | None:
    return margin_jobs.margin_job_execute(job_id=job_id, worker=self.request.hostname or "")
