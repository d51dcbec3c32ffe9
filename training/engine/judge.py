"""A model as a judge of answer pairs: a rubric-aware prompt, both orders, a strict parse, one verdict per pair.

Each pair is shown twice, its answers labelled A and B in one order and then the other; the model answers greedily,
primed with `Verdict:` so that its first words are the verdict. An answer counts only in the fixed format: its first
line is `Verdict: A`, `Verdict: B`, `Verdict: tie` or `Verdict: both bad` (any case, a final full stop allowed), and
no later line starts a different verdict; anything else is unparseable, never guessed. The two orders combine as:

    same verdict in both orders (in the pair's terms)  → that verdict, order-consistent
    different verdicts (a flip with the order)          → tie, not order-consistent
    either answer unparseable                           → unparseable (no verdict)

The template's digest (`TEMPLATE_SHA256`) names the judge prompt in the judge's identity: changing any wording,
limit or the parse gives a new digest, so verdicts from different prompts are never mixed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Prompt = str | list[dict[str, str]]

VERDICTS = ("a", "b", "tie", "both_bad")
UNPARSEABLE = "unparseable"
PRIMER = "Verdict:"
MAX_TEXT_CHARS = 4000  # each prompt and answer shown to the judge is cut here (the context of small models is short)
MAX_NEW_TOKENS = 8

SYSTEM = (
    "You are a careful, impartial judge of answers written by AI assistants. You compare two answers to the same "
    "prompt against a rubric and say which one is better. The order of the answers must not affect your verdict."
)
TEMPLATE = """Rubric: {title}
{guidelines}{criteria}
[Prompt]
{prompt}
[End of prompt]

[Answer A]
{answer_a}
[End of answer A]

[Answer B]
{answer_b}
[End of answer B]

Which answer is better by the rubric? Reply with exactly one line: "Verdict: A", "Verdict: B", "Verdict: tie" (equally \
good) or "Verdict: both bad"."""
# What the digest covers: every text the model sees, the cut, the primer and the parse's version.
PARSE_VERSION = "first-line-verdict-v1"
TEMPLATE_SHA256 = hashlib.sha256(
    "\0".join([SYSTEM, TEMPLATE, PRIMER, str(MAX_TEXT_CHARS), PARSE_VERSION]).encode()
).hexdigest()

_LABELS = {"a": "a", "b": "b", "tie": "tie", "both bad": "both_bad"}
_VERDICT_LINE = re.compile(r"^verdict:\s*(?P<label>.*?)\s*\.?\s*$", re.IGNORECASE)
_SWAPPED = {"a": "b", "b": "a", "tie": "tie", "both_bad": "both_bad"}


@dataclass(frozen=True)
class Rubric:
    title: str
    guidelines: str = ""
    criteria: list[dict[str, Any]] = field(default_factory=list)  # [{"key", "label", "description", ...}]


@dataclass(frozen=True)
class JudgePair:
    key: Any  # the caller's id for the pair (a comparison id)
    prompt: Prompt
    answer_a: str
    answer_b: str


@dataclass(frozen=True)
class PairVerdict:
    key: Any
    outcome: str  # one of VERDICTS, or UNPARSEABLE
    order_consistent: bool | None  # None when unparseable
    answers: tuple[str, str]  # the raw answers: A first (the pair's order), then swapped

    @property
    def parsed(self) -> bool:
        return self.outcome != UNPARSEABLE

    @property
    def flipped(self) -> bool:
        return self.order_consistent is False


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + " […cut]"


def _prompt_text(prompt: Prompt) -> str:
    """A conversation as `Role: content` lines; a plain prompt as it is."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{turn.get('role', 'user').capitalize()}: {turn.get('content', '')}" for turn in prompt)


def _criteria(rubric: Rubric) -> str:
    lines = [
        f"- {c.get('label') or c.get('key')}" + (f": {c['description']}" if c.get("description") else "")
        for c in rubric.criteria
    ]
    return ("\nCriteria:\n" + "\n".join(lines)) if lines else ""


def judge_messages(rubric: Rubric, prompt: Prompt, answer_a: str, answer_b: str) -> list[dict[str, str]]:
    """The judge prompt as chat messages (system, user), the answers labelled A and B in the order given."""
    guidelines = rubric.guidelines.strip()
    user = TEMPLATE.format(
        title=rubric.title,
        guidelines=(guidelines + "\n") if guidelines else "",
        criteria=_criteria(rubric),
        prompt=_cut(_prompt_text(prompt)),
        answer_a=_cut(answer_a),
        answer_b=_cut(answer_b),
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def render(messages: list[dict[str, str]], tokenizer) -> str:
    """The text the model continues: its chat template (if any) with the assistant turn opened, then the primer.

    The rendered text holds its own special tokens, and is tokenized as plain text (generate.prompt_token_ids)."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return text + PRIMER
    return "\n\n".join(m["content"] for m in messages) + "\n\n" + PRIMER


def parse_verdict(answer: str) -> str:
    """One of VERDICTS from the model's continuation of the primer, or UNPARSEABLE."""
    lines = [line.strip() for line in (PRIMER + answer).splitlines() if line.strip()]
    found = [_VERDICT_LINE.match(line) for line in lines]
    first = found[0]
    if first is None or first["label"].lower() not in _LABELS:
        return UNPARSEABLE
    verdict = _LABELS[first["label"].lower()]
    later = {_LABELS.get(m["label"].lower(), UNPARSEABLE) for m in found[1:] if m is not None}
    return verdict if later <= {verdict} else UNPARSEABLE


def combine(forward: str, backward: str) -> tuple[str, bool | None]:
    """(outcome, order consistent) from the verdict on (A, B) and the verdict on (B, A), the latter as parsed (its
    "a" is the pair's b)."""
    if UNPARSEABLE in (forward, backward):
        return UNPARSEABLE, None
    backward = _SWAPPED[backward]
    return (forward, True) if forward == backward else ("tie", False)


Answerer = Callable[[list[str]], list[str]]


def judge_with(answer: Answerer, rubric: Rubric, pairs: Sequence[JudgePair], tokenizer=None) -> list[PairVerdict]:
    """Verdicts for `pairs` from `answer`, a function from rendered prompts to continuations (one call, both orders
    of every pair: A-first prompts, then their swapped twins)."""
    prompts = [render(judge_messages(rubric, p.prompt, p.answer_a, p.answer_b), tokenizer) for p in pairs]
    prompts += [render(judge_messages(rubric, p.prompt, p.answer_b, p.answer_a), tokenizer) for p in pairs]
    answers = answer(prompts)
    if len(answers) != len(prompts):
        raise ValueError(f"expected {len(prompts)} answers, got {len(answers)}")
    verdicts = []
    for pair, forward, backward in zip(pairs, answers[: len(pairs)], answers[len(pairs) :], strict=True):
        outcome, consistent = combine(parse_verdict(forward), parse_verdict(backward))
        verdicts.append(PairVerdict(pair.key, outcome, consistent, (forward, backward)))
    return verdicts


def greedy_answerer(model, tokenizer, *, max_new_tokens: int = MAX_NEW_TOKENS, batch_size: int = 8) -> Answerer:
    """Greedy continuations from the model, through the engine's batched sampler (prompts of like length batched)."""
    from training.engine.generate import sample_completions
    from training.engine.sampling import SamplingSettings

    settings = SamplingSettings(samples=1, temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, seed=0)

    def answer(prompts: list[str]) -> list[str]:
        done = sample_completions(model, tokenizer, prompts, settings, batch_size=batch_size)
        return [c.text for c in done]

    return answer


def judge_pairs(
    model, tokenizer, rubric: Rubric, pairs: Sequence[JudgePair], *, max_new_tokens: int = MAX_NEW_TOKENS
) -> list[PairVerdict]:
    """Each pair judged by the model in both orders, greedily; verdicts in the pairs' order."""
    return judge_with(greedy_answerer(model, tokenizer, max_new_tokens=max_new_tokens), rubric, pairs, tokenizer)
