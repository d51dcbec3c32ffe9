"""Register a local model folder (under VERDICT_MODEL_DIRS) as a base model runs may train on."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from training.services import RunRejected
from training.services.base_models import base_model_register


class Command(BaseCommand):
    help = "Register a transformers model folder under VERDICT_MODEL_DIRS as a base model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("path")

    def handle(self, *args, name: str, path: str, **options) -> None:
        try:
            model = base_model_register(name=name, path=path)
        except RunRejected as exc:
            raise CommandError("; ".join(exc.errors)) from None
        self.stdout.write(f"registered {model.name}: {model.parameter_count:,} parameters at {model.path}")
