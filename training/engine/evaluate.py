"""Held-out evaluation: implicit-reward accuracy, margins, slices, a KL estimate and sample generations."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch

from training.engine.data import PreferencePair, TokenizedPair, collate, sequential_batches
from training.engine.generate import prompt_token_ids, sample_completions
from training.engine.model import sequence_logps
from training.engine.objective import Objective, weighted_mean
from training.engine.sampling import SamplingSettings


@torch.no_grad()
def score_pairs(model, items: list[TokenizedPair], *, batch_size: int, pad_token_id: int) -> dict[str, torch.Tensor]:
    """Policy and reference log-probs for every item: tensors of shape (n,) in item order."""
    n = len(items)
    keys = ("policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected", "chosen_len", "rejected_len", "nll")
    out = {key: torch.zeros(n) for key in keys}
    was_training = model.training
    model.eval()
    try:
        for positions in sequential_batches(items, batch_size):
            batch = collate([items[i] for i in positions], pad_token_id)
            half = len(positions)
            logps, counts, _ = sequence_logps(model, batch)
            if "ref_chosen_logps" in batch:
                ref = torch.cat([batch["ref_chosen_logps"], batch["ref_rejected_logps"]])
            else:
                with model.disable_adapter():
                    ref, _, _ = sequence_logps(model, batch)
            logps, ref, counts = logps.float().cpu(), ref.float().cpu(), counts.float().cpu()
            out["policy_chosen"][positions], out["policy_rejected"][positions] = logps[:half], logps[half:]
            out["ref_chosen"][positions], out["ref_rejected"][positions] = ref[:half], ref[half:]
            out["chosen_len"][positions], out["rejected_len"][positions] = counts[:half], counts[half:]
            # Per-pair stand-in for the sft term: the chosen completion's mean NLL per token.
            out["nll"][positions] = -logps[:half] / counts[:half].clamp(min=1)
    finally:
        model.train(was_training)
    out["weight"] = torch.tensor([it.weight for it in items], dtype=torch.float32)
    out["is_tie"] = torch.tensor([it.is_tie for it in items], dtype=torch.bool)
    return out


def summarize(scores: dict[str, torch.Tensor], objective: Objective) -> dict[str, float]:
    """TRL-named metrics over scored pairs, plus accuracies; ties are reported apart from preferences."""
    beta = objective.beta
    chosen_rewards = beta * (scores["policy_chosen"] - scores["ref_chosen"])
    rejected_rewards = beta * (scores["policy_rejected"] - scores["ref_rejected"])
    margins = chosen_rewards - rejected_rewards
    ties = scores["is_tie"]
    prefs = ~ties
    metrics: dict[str, float] = {}
    # Only a tie-aware objective has a loss for tied pairs.
    keep = torch.ones_like(ties) if objective.tie_strength is not None else prefs
    if bool(keep.any()):
        per_pair = objective.per_pair(
            scores["policy_chosen"][keep],
            scores["policy_rejected"][keep],
            scores["ref_chosen"][keep],
            scores["ref_rejected"][keep],
            chosen_lengths=scores["chosen_len"][keep],
            rejected_lengths=scores["rejected_len"][keep],
            is_tie=ties[keep],
            sft_nll=scores["nll"][keep].mean(),
        )
        metrics["loss"] = float(weighted_mean(per_pair, scores["weight"][keep]))
    if bool(prefs.any()):
        metrics.update(
            {
                "rewards/chosen": float(chosen_rewards[prefs].mean()),
                "rewards/rejected": float(rejected_rewards[prefs].mean()),
                "rewards/margins": float(margins[prefs].mean()),
                "rewards/accuracies": float((margins[prefs] > 0).float().mean()),
                "logps/chosen": float(scores["policy_chosen"][prefs].mean()),
                "logps/rejected": float(scores["policy_rejected"][prefs].mean()),
                "reference_accuracy": float(
                    (scores["ref_chosen"][prefs] > scores["ref_rejected"][prefs]).float().mean()
                ),
            }
        )
    if bool(ties.any()):
        metrics["ties/abs_margins"] = float(margins[ties].abs().mean())
    return metrics


def _slices(pairs: list[PreferencePair], items: list[TokenizedPair], margins: torch.Tensor) -> dict[str, Any]:
    groups: dict[str, dict[str, list[float]]] = {"locale": defaultdict(list), "tag": defaultdict(list)}
    for item, margin in zip(items, margins.tolist(), strict=True):
        pair = pairs[item.index]
        if pair.is_tie:
            continue
        locale = pair.meta.get("locale")
        if locale:
            groups["locale"][str(locale)].append(margin)
        tags = pair.meta.get("tags") or []
        if isinstance(tags, dict):  # {"topic": "math"} slices as "topic=math"
            tags = [f"{key}={value}" for key, value in sorted(tags.items())]
        for tag in tags if isinstance(tags, list) else [tags]:
            groups["tag"][str(tag)].append(margin)
    return {
        kind: {
            value: {
                "count": len(ms),
                "preference_accuracy": sum(m > 0 for m in ms) / len(ms),
                "reward_margin": sum(ms) / len(ms),
            }
            for value, ms in sorted(by_value.items())
        }
        for kind, by_value in groups.items()
    }


def reward_distribution(chosen: torch.Tensor, rejected: torch.Tensor, bins: int = 20) -> dict[str, list[float]]:
    """Histograms of implicit rewards β·(log π_θ − log π_ref) for chosen and rejected answers on shared bin edges."""
    values = torch.cat([chosen, rejected]).double()
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    edges = torch.linspace(low, high, bins + 1, dtype=torch.float64)
    counts = {
        name: torch.histogram(series.double(), bins=edges).hist.long().tolist()
        for name, series in (("chosen", chosen), ("rejected", rejected))
    }
    return {"edges": [round(float(edge), 6) for edge in edges], **counts}


def _prompt_text(pair: PreferencePair) -> str:
    if pair.conversational:
        return str(pair.prompt[-1]["content"])
    return pair.prompt


def _next_token_logps(model, ids: list[int], start: int) -> torch.Tensor:
    """Log-distributions over the vocabulary for predicting ids[start:], shape (len(ids) - start, vocab)."""
    device = next(model.parameters()).device
    logits = model(input_ids=torch.tensor([ids], device=device)).logits[0, start - 1 : -1]
    return torch.log_softmax(logits.float(), dim=-1)


def _completion_kl(model, prompt_ids: list[int], completion: list[int]) -> float:
    """Σ_t KL(π_ref(·|x, y<t) ‖ π_θ(·|x, y<t)) along a completion y drawn from the reference.

    By the chain rule its mean over y ~ π_ref is the sequence-level KL(π_ref ‖ π_θ); unlike the log-ratio of the
    sampled tokens, every term is an exact KL over the vocabulary, so the estimate is never negative and varies less.
    """
    ids = prompt_ids + completion
    with model.disable_adapter():
        ref = _next_token_logps(model, ids, len(prompt_ids))
    policy = _next_token_logps(model, ids, len(prompt_ids))
    return float((ref.exp() * (ref - policy)).sum())


def _distinct_prompts(pairs: list[PreferencePair], items: list[TokenizedPair], limit: int) -> list[PreferencePair]:
    seen, chosen = set(), []
    for item in items:
        pair = pairs[item.index]
        key = repr(pair.prompt)
        if key not in seen:
            seen.add(key)
            chosen.append(pair)
        if len(chosen) == limit:
            break
    return chosen


@torch.no_grad()
def kl_and_samples(
    model,
    tokenizer,
    pairs: list[PreferencePair],
    items: list[TokenizedPair],
    *,
    num_samples: int,
    max_new_tokens: int,
    seed: int,
    batch_size: int = 16,
) -> tuple[dict[str, float] | None, list[dict[str, str]]]:
    """KL(reference ‖ policy) estimated on completions sampled from the reference, and greedy samples from both.

    KL ≈ mean over sampled y ~ π_ref(·|x) of the per-position KLs between the two next-token distributions (the
    end token included when the sample stopped on one). Generation is batched and draws from its own seeded
    generators, so the global RNG is untouched and evaluation never changes what training does next.
    """
    prompts = _distinct_prompts(pairs, items, num_samples)
    if num_samples == 0 or max_new_tokens == 0 or not prompts:
        return None, []
    was_training = model.training
    model.eval()
    texts = [pair.prompt for pair in prompts]
    drawn_settings = SamplingSettings(samples=1, temperature=1.0, top_p=1.0, max_new_tokens=max_new_tokens, seed=seed)
    greedy = SamplingSettings(samples=1, temperature=0.0, top_p=1.0, max_new_tokens=max_new_tokens, seed=seed)
    kl_terms, token_count, samples = [], 0, []
    try:
        with model.disable_adapter():
            drawn = sample_completions(model, tokenizer, texts, drawn_settings, batch_size=batch_size)
            reference = sample_completions(model, tokenizer, texts, greedy, batch_size=batch_size)
        adapter = sample_completions(model, tokenizer, texts, greedy, batch_size=batch_size)
        for pair, sample, ref_answer, answer in zip(prompts, drawn, reference, adapter, strict=True):
            completion = sample.token_ids + ([sample.stop_token] if sample.stop_token is not None else [])
            prompt_ids = prompt_token_ids(pair.prompt, tokenizer)
            kl_terms.append(_completion_kl(model, prompt_ids, completion) if completion else 0.0)
            token_count += len(completion)
            samples.append({"prompt": _prompt_text(pair), "adapter": answer.text, "reference": ref_answer.text})
    finally:
        model.train(was_training)
    kl = {
        "per_sequence": sum(kl_terms) / len(kl_terms),
        "per_token": sum(kl_terms) / max(token_count, 1),
        "num_prompts": len(kl_terms),
    }
    return kl, samples


def build_report(
    model,
    tokenizer,
    pairs: list[PreferencePair],
    items: list[TokenizedPair],
    objective: Objective,
    *,
    batch_size: int,
    num_samples: int,
    max_new_tokens: int,
    seed: int,
    dropped: int = 0,
) -> dict[str, Any]:
    """The contents of eval_report.json."""
    if not items:
        return {
            "num_pairs": 0,
            "dropped_over_length": dropped,
            "preference_accuracy": None,
            "reference_preference_accuracy": None,
            "reward_margin": None,
            "eval_loss": None,
            "metrics": {},
            "slices": {"locale": {}, "tag": {}},
            "kl": None,
            "samples": [],
        }
    scores = score_pairs(model, items, batch_size=batch_size, pad_token_id=tokenizer.pad_token_id)
    metrics = summarize(scores, objective)
    margins = objective.beta * (
        (scores["policy_chosen"] - scores["ref_chosen"]) - (scores["policy_rejected"] - scores["ref_rejected"])
    )
    kl, samples = kl_and_samples(
        model,
        tokenizer,
        pairs,
        items,
        num_samples=num_samples,
        max_new_tokens=max_new_tokens,
        seed=seed,
        batch_size=batch_size,
    )
    ties = scores["is_tie"]
    prefs = ~ties
    report: dict[str, Any] = {
        "num_pairs": int(prefs.sum()),
        "dropped_over_length": dropped,
        "preference_accuracy": metrics.get("rewards/accuracies"),
        "reference_preference_accuracy": metrics.get("reference_accuracy"),
        "reward_margin": metrics.get("rewards/margins"),
        "eval_loss": metrics.get("loss"),
        "metrics": metrics,
        "slices": _slices(pairs, items, margins),
        "reward_distribution": reward_distribution(
            objective.beta * (scores["policy_chosen"] - scores["ref_chosen"])[prefs],
            objective.beta * (scores["policy_rejected"] - scores["ref_rejected"])[prefs],
        )
        if bool(prefs.any())
        else None,
        "kl": kl,
        "samples": samples,
    }
    if bool(ties.any()):
        report["ties"] = {"count": int(ties.sum()), "abs_margin": metrics["ties/abs_margins"]}
    return report
