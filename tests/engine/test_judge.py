"""The judge: its prompt, the strict parse, both orders combined; a fake answerer, then the tiny model end to end."""

from __future__ import annotations

import pytest

from training.engine.generate import load_generator
from training.engine.judge import (
    PRIMER,
    TEMPLATE_SHA256,
    UNPARSEABLE,
    JudgePair,
    Rubric,
    combine,
    judge_messages,
    judge_pairs,
    judge_with,
    parse_verdict,
    render,
)

RUBRIC = Rubric(
    title="Helpfulness",
    guidelines="Prefer the answer that solves the task.",
    criteria=[{"key": "correctness", "label": "Correctness", "description": "Facts are right", "scale": 5}],
)


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (" A", "a"),
        (" b.", "b"),
        (" Tie", "tie"),
        (" both bad", "both_bad"),
        (" A\nBecause it is correct.", "a"),
        (" A\nVerdict: A", "a"),
    ],
)
def test_answers_in_the_format_parse(answer, verdict):
    assert parse_verdict(answer) == verdict


@pytest.mark.parametrize(
    "answer",
    ["", " ", " Answer A", " A is better", " AB", " C", " both", "\nA", " A\nVerdict: B", " A or B", " maybe tie"],
)
def test_anything_else_is_unparseable_never_guessed(answer):
    assert parse_verdict(answer) == UNPARSEABLE


def test_both_orders_combine_a_flip_into_an_inconsistent_tie():
    # The backward verdict is in shown terms: its "b" is the pair's a.
    assert combine("a", "b") == ("a", True)
    assert combine("b", "a") == ("b", True)
    assert combine("tie", "tie") == ("tie", True)
    assert combine("both_bad", "both_bad") == ("both_bad", True)
    assert combine("a", "a") == ("tie", False)  # always the first answer: position bias
    assert combine("a", "tie") == ("tie", False)
    assert combine("a", UNPARSEABLE) == (UNPARSEABLE, None)
    assert combine(UNPARSEABLE, "tie") == (UNPARSEABLE, None)


def test_the_prompt_shows_the_rubric_the_conversation_and_both_answers_labelled():
    messages = judge_messages(RUBRIC, [{"role": "user", "content": "What is 2+2?"}], "four", "five")
    user = messages[-1]["content"]
    assert messages[0]["role"] == "system"
    for text in ("Helpfulness", "Prefer the answer that solves", "Correctness: Facts are right", "User: What is 2+2?"):
        assert text in user
    assert user.index("[Answer A]\nfour") < user.index("[Answer B]\nfive")
    assert render(messages, tokenizer=None).endswith(PRIMER)


def test_the_template_digest_is_a_stable_sha256():
    assert len(TEMPLATE_SHA256) == 64 and int(TEMPLATE_SHA256, 16) >= 0


def _fake(replies: dict[tuple[str, str], str]):
    """An answerer that reads which answer is labelled A in each prompt and replies as told for that order."""

    def answer(prompts: list[str]) -> list[str]:
        out = []
        for prompt in prompts:
            first = prompt.split("[Answer A]\n")[1].split("\n")[0]
            second = prompt.split("[Answer B]\n")[1].split("\n")[0]
            out.append(replies[(first, second)])
        return out

    return answer


def test_each_pair_is_judged_in_both_orders_and_combined():
    pairs = [
        JudgePair(1, "q1", "good", "bad"),
        JudgePair(2, "q2", "left", "right"),
        JudgePair(3, "q3", "x", "y"),
    ]
    replies = {
        ("good", "bad"): " A",
        ("bad", "good"): " B",  # consistent: a
        ("left", "right"): " A",
        ("right", "left"): " A",  # flips with the order
        ("x", "y"): " tie",
        ("y", "x"): " I think the first one",  # unparseable
    }
    verdicts = judge_with(_fake(replies), RUBRIC, pairs)
    assert [(v.key, v.outcome, v.order_consistent) for v in verdicts] == [
        (1, "a", True),
        (2, "tie", False),
        (3, UNPARSEABLE, None),
    ]
    assert verdicts[2].answers == (" tie", " I think the first one")
    assert [v.flipped for v in verdicts] == [False, True, False]


def test_the_tiny_model_judges_end_to_end(tiny_model_dir):
    model, tokenizer = load_generator(tiny_model_dir, device="cpu")
    pairs = [JudgePair(i, f"the bird {i}", "a black bird", "each table") for i in range(3)]
    verdicts = judge_pairs(model, tokenizer, RUBRIC, pairs, max_new_tokens=4)
    assert [v.key for v in verdicts] == [0, 1, 2]
    for v in verdicts:
        assert len(v.answers) == 2
        assert (v.outcome == UNPARSEABLE) == (v.order_consistent is None)
    # A random model does not write "Verdict: A": its answers are recorded as unparseable, not guessed.
    assert all(v.outcome == UNPARSEABLE for v in verdicts)
