"""Evaluation reads annotate and training; neither imports evaluation (the run page asks for its part by URL)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(app: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("app", ["annotate", "training"])
def test_the_app_never_imports_evaluation(app):
    offenders = {
        path: sorted(name for name in names if name == "evaluation" or name.startswith("evaluation."))
        for path, names in imported_modules(app).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
