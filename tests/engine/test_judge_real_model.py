"""SmolLM2-135M-Instruct as a judge on a few hand-made pairs: it runs, and every pair ends either judged or
unparseable. How weak a judge it is lives in bench/judge_agreement.py, not in an assertion."""

from __future__ import annotations

import pytest

from training.engine.generate import load_generator
from training.engine.judge import UNPARSEABLE, VERDICTS, JudgePair, Rubric, judge_pairs

pytestmark = [pytest.mark.real_model, pytest.mark.slow]

PAIRS = [
    JudgePair(1, "What is the capital of France?", "Paris.", "Berlin."),
    JudgePair(2, [{"role": "user", "content": "How many legs does a dog have?"}], "Three.", "A dog has four legs."),
    JudgePair(3, "Say hello.", "Hello!", "Hello!"),
]


def test_smollm2_judges_a_few_pairs_and_every_pair_is_counted(smollm2_dir):
    model, tokenizer = load_generator(smollm2_dir, device="cpu")
    verdicts = judge_pairs(model, tokenizer, Rubric(title="Correctness"), PAIRS)
    assert [v.key for v in verdicts] == [1, 2, 3]
    judged = [v for v in verdicts if v.outcome in VERDICTS]
    unparseable = [v for v in verdicts if v.outcome == UNPARSEABLE]
    assert len(judged) + len(unparseable) == len(PAIRS)
    assert all(v.order_consistent is not None for v in judged)
    assert all(v.order_consistent is None for v in unparseable)
