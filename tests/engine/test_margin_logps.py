"""Answer log-probs for pair margins: equal to a direct computation from the model's logits, whatever the batch."""

from __future__ import annotations

import pytest
import torch

from training.engine.margin_logps import AnswerRow, answer_logps, load_scorer, tokenize_answer

ROWS = [
    AnswerRow(prompt="the cat", answer="sat on the mat"),
    AnswerRow(prompt="Q: what is red? A:", answer="a"),
    AnswerRow(prompt=[{"role": "user", "content": "Name a pet."}], answer="a dog, or a bird that can speak"),
    AnswerRow(prompt="one two three", answer="four five six seven eight nine ten"),
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return load_scorer(tiny_model_dir, device="cpu")


def _by_hand(model, tokenizer, row: AnswerRow) -> tuple[float, int]:
    """Render the chat by hand, run the whole sequence, sum log-softmax at the answer's tokens."""
    prompt = row.prompt if isinstance(row.prompt, list) else [{"role": "user", "content": row.prompt}]
    prompt_ids = list(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_dict=True)["input_ids"])
    full = prompt + [{"role": "assistant", "content": row.answer}]
    full_ids = list(tokenizer.apply_chat_template(full, return_dict=True)["input_ids"])
    assert full_ids[: len(prompt_ids)] == prompt_ids
    with torch.no_grad():
        logprobs = torch.log_softmax(model(input_ids=torch.tensor([full_ids])).logits[0].double(), dim=-1)
    total = sum(float(logprobs[t - 1, full_ids[t]]) for t in range(len(prompt_ids), len(full_ids)))
    return total, len(full_ids) - len(prompt_ids)


def test_summed_logps_and_token_counts_equal_a_hand_computation(tiny):
    model, tokenizer = tiny
    scores = answer_logps(model, tokenizer, ROWS, batch_size=3)
    for row, score in zip(ROWS, scores, strict=True):
        expected, tokens = _by_hand(model, tokenizer, row)
        assert score.tokens == tokens
        assert score.logp_sum == pytest.approx(expected, abs=1e-4)
        assert score.logp_per_token == pytest.approx(expected / tokens, abs=1e-5)
        assert score.logp_sum < 0


def test_batch_size_does_not_change_the_scores(tiny):
    model, tokenizer = tiny
    together = answer_logps(model, tokenizer, ROWS, batch_size=4)
    alone = answer_logps(model, tokenizer, ROWS, batch_size=1)
    for a, b in zip(together, alone, strict=True):
        assert a.tokens == b.tokens
        assert a.logp_sum == pytest.approx(b.logp_sum, abs=1e-4)


def test_without_a_chat_template_text_is_scored_plainly_with_the_end_token(tiny):
    model, tokenizer = tiny
    template, tokenizer.chat_template = tokenizer.chat_template, None
    try:
        [score] = answer_logps(model, tokenizer, [ROWS[0]])
        item = tokenize_answer(ROWS[0], tokenizer)
        with pytest.raises(ValueError, match="chat template"):
            answer_logps(model, tokenizer, [ROWS[2]])
    finally:
        tokenizer.chat_template = template
    ids = list(tokenizer(text="the cat")["input_ids"])
    full = list(tokenizer(text="the cat" + "sat on the mat" + tokenizer.eos_token)["input_ids"])
    assert item.chosen_ids == full and full[-1] == tokenizer.eos_token_id
    assert score.tokens == len(full) - len(ids)


def test_progress_is_reported_per_batch_up_to_the_total(tiny):
    model, tokenizer = tiny
    calls = []
    answer_logps(model, tokenizer, ROWS, batch_size=3, on_batch=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 4), (4, 4)]
