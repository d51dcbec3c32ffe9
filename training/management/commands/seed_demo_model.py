"""make demo: build the tiny demo model under DATA_DIR/models/tiny-demo (once) and register it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from training.services.base_models import base_model_register

NAME = "tiny-demo"


class Command(BaseCommand):
    help = "Build the tiny random-init demo model if missing and register it as a base model."

    def handle(self, *args, **options) -> None:
        folder = Path(settings.DATA_DIR) / "models" / NAME
        if not (folder / "config.json").is_file():
            from training.engine import make_tiny_model

            make_tiny_model(folder)
            self.stdout.write(f"built {folder}")
        model = base_model_register(name=NAME, path=str(folder))
        self.stdout.write(f"registered {model.name}: {model.parameter_count:,} parameters")
