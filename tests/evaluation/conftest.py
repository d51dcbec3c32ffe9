"""The real preference data shared beside the repository (``<repo>/../shared/data/real-preferences``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from evaluation.pairwise import Judgment
from tests.evaluation.runs import adapter_run, data_dir, tiny_base_model, trained_snapshot  # noqa: F401 (fixtures)

REAL_PREFERENCES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-preferences"

# LLMFAO's `winner` names the side; AlpacaEval's `preference` is 1 (output_1), 2 (output_2) or 0 (draw).
LLMFAO_OUTCOMES = {"left": "a", "right": "b", "tie": "tie"}
ALPACA_OUTCOMES = {1: "a", 2: "b", 0: "tie"}


def _real_file(relative: str) -> Path:
    path = REAL_PREFERENCES / relative
    if not path.exists():
        pytest.skip(f"real preference data not found at {path} (the shared/ folder beside the repository)")
    return path


@pytest.fixture(scope="session")
def llmfao_judgments() -> list[Judgment]:
    """8,931 crowd votes; the prompt id groups the votes for the bootstrap."""
    with _real_file("llmfao/crowd-comparisons.csv").open(newline="") as handle:
        return [
            Judgment(row["prompt"], row["left"], row["right"], LLMFAO_OUTCOMES[row["winner"]])
            for row in csv.DictReader(handle)
        ]


@pytest.fixture(scope="session")
def llmfao_golden_bradley_terry() -> dict[str, float]:
    with _real_file("llmfao/evalica-llmfao-golden.csv").open(newline="") as handle:
        return {
            row["item"]: float(row["score"]) for row in csv.DictReader(handle) if row["algorithm"] == "bradley_terry"
        }


@pytest.fixture(scope="session")
def alpaca_judgments() -> list[Judgment]:
    """805 GPT-4 annotations of alpaca-farm-ppo-human (output_2) against text_davinci_003 (output_1)."""
    path = _real_file("alpaca_eval/alpaca-farm-ppo-human__alpaca_eval_gpt4__annotations.json")
    annotations = json.loads(path.read_text())
    return [
        Judgment(index, row["generator_1"], row["generator_2"], ALPACA_OUTCOMES[int(row["preference"])])
        for index, row in enumerate(annotations)
    ]
