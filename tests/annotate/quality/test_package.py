"""The quality package's shape: pure modules stay free of Django, no module needs another imported first, and the
outcome and strength codes are the model's choices."""

from __future__ import annotations

import subprocess
import sys

import pytest

from annotate.models import Outcome, Strength
from annotate.quality import codes

PURE = ("agreement", "arrays", "codes", "judges", "metrics", "reviewers")
DJANGO = ("drilldown", "load", "refresh", "report", "shaping", "store")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_without_django(module):
    result = _python(f"import sys, annotate.quality.{module}; print(sorted(m for m in sys.modules if 'django' in m))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", (*PURE, *DJANGO, "annotate.tasks"))
def test_module_imports_first_in_a_fresh_interpreter(module):
    """A circle shows up as an ImportError when one of its modules is imported before the others."""
    name = module if module.startswith("annotate.") else f"annotate.quality.{module}"
    result = _python(
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup(); "
        f"import {name}"
    )
    assert result.returncode == 0, result.stderr


def test_codes_are_the_models_choices():
    assert codes.OUTCOMES == tuple(Outcome.values)
    assert codes.STRENGTHS == tuple(Strength.values)
    assert [codes.OUTCOME_CODE[name] for name in codes.ANSWERS] == list(range(codes.N_CATEGORIES))
