"""make demo: answers the real model wrote, for reviewers to judge — generated once, kept in the demo database.

Runs after seed_demo_model (demo.sh runs every seed_demo_* command in name order). When SmolLM2 is registered, a
generation job samples its answers to the demo campaign's prompts into the campaign `demo-smollm2` and is executed
here, in this process, so the demo opens with them ready. On the next start the succeeded job is found and nothing is
generated again (the database and the job's files live under var/). Without SmolLM2 it does nothing.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from annotate.services.demo import DEMO_CAMPAIGN
from training.models import BaseModel, GenerationJob
from training.services.generation import generation_job_create, generation_job_execute

TARGET = "demo-smollm2"
SETTINGS = {"samples": 2, "temperature": 0.8, "top_p": 0.95, "max_new_tokens": 64, "seed": 0}


class Command(BaseCommand):
    help = "Generate the demo's answers from SmolLM2 once (into the demo-smollm2 campaign); later runs do nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", default="smollm2-135m-instruct", help="The registered base model to sample")

    def handle(self, *args, model: str, **options) -> None:
        base = BaseModel.objects.filter(name=model).first()
        if base is None:
            self.stdout.write(f"{model} is not registered: no generated answers in the demo")
            return
        done = GenerationJob.objects.filter(target_slug=TARGET, status=GenerationJob.Status.SUCCEEDED).first()
        if done is not None:
            self.stdout.write(f"{TARGET}: answers already generated (generation #{done.id})")
            return
        job = generation_job_create(
            name="demo answers",
            models=[f"base:{base.id}"],
            source_campaign=DEMO_CAMPAIGN,
            locale="en-US",  # SmolLM2 writes English; its Japanese is not worth a reviewer's time
            settings_values=SETTINGS,
            pairs="all",  # one model: its two samples of a prompt make the pair
            target_campaign=TARGET,
            requested_by=None,
        )
        self.stdout.write(f"generating {job.sequences_total} answers with {model} (once) ...")
        started = time.monotonic()
        status = generation_job_execute(job_id=job.id, worker="seed_demo_model_answers")
        job.refresh_from_db()
        if status != GenerationJob.Status.SUCCEEDED:
            self.stderr.write(f"generation #{job.id} {status}: {job.error}")
            return
        self.stdout.write(
            f"{TARGET}: {job.result['candidates_created']} answers, {job.result['comparisons_created']} pairs "
            f"in {time.monotonic() - started:.0f} s"
        )
