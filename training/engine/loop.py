"""The LoRA DPO training loop, top to bottom: load, tokenize, (reference pass), optimize, evaluate, save."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from training.engine.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint
from training.engine.config import EngineConfig
from training.engine.data import (
    PreferencePair,
    TokenizedPair,
    collate,
    length_grouped_batches,
    pairs_sha256,
    tokenize_pairs,
)
from training.engine.digest import model_digest
from training.engine.evaluate import build_report, score_pairs, summarize
from training.engine.model import load_policy, sequence_logps
from training.engine.objective import Objective, weighted_mean
from training.engine.outputs import MetricsLog, write_json, write_model_card
from training.engine.refcache import attach_reference_logps
from training.engine.reporting import NullReporter, Reporter


class TrainingDiverged(RuntimeError):
    """The loss or the reward margins went non-finite or past `divergence_margin`: the run stops as failed.

    Such a run's adapter is noise; finishing it would write a report that can look like the best run.
    """


@dataclass
class TrainResult:
    status: str  # "completed" | "cancelled"
    output_dir: str
    final_step: int
    total_steps: int
    metrics: dict[str, float] = field(default_factory=dict)
    eval_report: dict[str, Any] = field(default_factory=dict)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _lr_lambda(config: EngineConfig, total_steps: int):
    warmup = math.ceil(config.warmup_ratio * total_steps)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if config.lr_scheduler == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        if config.lr_scheduler == "linear":
            return max(0.0, 1.0 - progress)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def _step_plan(items: list[TokenizedPair], config: EngineConfig) -> Iterator[list[list[int]]]:
    """Optimizer steps, each a list of micro-batches (positions into items), epoch after epoch, forever.

    A step never spans two epochs: the last one of an epoch may have fewer micro-batches.
    """
    epoch = 0
    while True:
        batches = length_grouped_batches(
            items, config.batch_size, seed=config.seed, epoch=epoch, by_completion=config.share_prompt
        )
        for start in range(0, len(batches), config.grad_accum_steps):
            yield batches[start : start + config.grad_accum_steps]
        epoch += 1


def _steps_per_epoch(items: list[TokenizedPair], config: EngineConfig) -> int:
    return math.ceil(math.ceil(len(items) / config.batch_size) / config.grad_accum_steps)


def _micro_batch(
    model, batch: dict[str, torch.Tensor], objective: Objective, *, share_prompt: bool = False
) -> tuple[torch.Tensor, dict]:
    """Loss of one micro-batch (weighted mean over pairs) and the per-pair values the metrics need."""
    logps, counts, mean_nll = sequence_logps(model, batch, share_prompt=share_prompt)
    half = batch["weight"].numel()
    if "ref_chosen_logps" in batch:
        device = logps.device
        ref_chosen, ref_rejected = batch["ref_chosen_logps"].to(device), batch["ref_rejected_logps"].to(device)
    else:
        with torch.no_grad(), model.disable_adapter():
            ref, _, _ = sequence_logps(model, batch, share_prompt=share_prompt)
        ref_chosen, ref_rejected = ref[:half], ref[half:]
    per_pair = objective.per_pair(
        logps[:half],
        logps[half:],
        ref_chosen,
        ref_rejected,
        chosen_lengths=counts[:half],
        rejected_lengths=counts[half:],
        is_tie=batch["is_tie"],
        sft_nll=mean_nll,
    )
    loss = weighted_mean(per_pair, batch["weight"])
    detached = {
        "policy_chosen": logps[:half].detach().float().cpu(),
        "policy_rejected": logps[half:].detach().float().cpu(),
        "ref_chosen": ref_chosen.detach().float().cpu(),
        "ref_rejected": ref_rejected.detach().float().cpu(),
        "is_tie": batch["is_tie"],
    }
    return loss, detached


def _train_metrics(parts: list[dict], losses: list[float], beta: float) -> dict[str, float]:
    cat = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    chosen = beta * (cat["policy_chosen"] - cat["ref_chosen"])
    rejected = beta * (cat["policy_rejected"] - cat["ref_rejected"])
    prefs = ~cat["is_tie"]
    metrics = {"loss": sum(losses) / len(losses)}
    if bool(prefs.any()):
        metrics.update(
            {
                "rewards/chosen": float(chosen[prefs].mean()),
                "rewards/rejected": float(rejected[prefs].mean()),
                "rewards/margins": float((chosen - rejected)[prefs].mean()),
                "rewards/accuracies": float((chosen > rejected)[prefs].float().mean()),
                "logps/chosen": float(cat["policy_chosen"][prefs].mean()),
                "logps/rejected": float(cat["policy_rejected"][prefs].mean()),
            }
        )
    if bool(cat["is_tie"].any()):
        metrics["ties/abs_margins"] = float((chosen - rejected)[cat["is_tie"]].abs().mean())
    return metrics


def _split_ties(
    config: EngineConfig, train_pairs: list[PreferencePair], ties: list[PreferencePair] | None
) -> tuple[list[PreferencePair], int]:
    """The pairs to train on, and how many tied pairs were left out.

    Tied pairs carry signal only for a tie-aware loss; the other losses would read them as preferences.
    """
    tied = [dataclasses.replace(t, is_tie=True) for t in ties or []] + [p for p in train_pairs if p.is_tie]
    preferences = [p for p in train_pairs if not p.is_tie]
    return (preferences + tied, 0) if config.tie_loss else (preferences, len(tied))


def _check_resumable(out: Path, train_sha256: str) -> None:
    previous = out / "config.json"
    if previous.is_file() and json.loads(previous.read_text()).get("train_sha256") != train_sha256:
        raise ValueError(f"resume: the checkpoints in {out} were trained on different data; use a new output folder")


def divergence(metrics: dict[str, float], limit: float) -> str | None:
    """Why these step (or eval) metrics show a diverged run, or None when they look sane."""
    for key in ("loss", "rewards/margins", "eval/loss", "eval/rewards/margins"):
        value = metrics.get(key)
        if value is None:
            continue
        if not math.isfinite(value):
            return f"{key} is {value}"
        if key.endswith("margins") and abs(value) > limit:
            return f"{key} is {value:.4g}, beyond divergence_margin={limit:g}"
    return None


def _train_step(
    model, items, micro_batches, objective, config, pad_id, trainable, optimizer, scheduler, scaler
) -> dict:
    """One optimizer step over its micro-batches (gradient accumulation, clipping); returns its metrics and counts.

    With fp16 the scaler multiplies the loss so small gradients survive, and skips a step whose gradients overflow;
    otherwise it is a pass-through.
    """
    optimizer.zero_grad(set_to_none=True)
    parts, losses, pairs, tokens = [], [], 0, 0
    for positions in micro_batches:
        batch = collate([items[i] for i in positions], pad_id)
        loss, detached = _micro_batch(model, batch, objective, share_prompt=config.share_prompt)
        scaler.scale(loss / len(micro_batches)).backward()
        parts.append(detached)
        losses.append(float(loss.detach()))
        pairs += len(positions)
        tokens += int(batch["attention_mask"].sum())
    scaler.unscale_(optimizer)
    if config.max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()
    metrics = _train_metrics(parts, losses, objective.beta)
    metrics["learning_rate"] = scheduler.get_last_lr()[0]
    return {"metrics": metrics, "pairs": pairs, "tokens": tokens}


def train_dpo(
    config: EngineConfig,
    train_pairs: list[PreferencePair],
    eval_pairs: list[PreferencePair] | None,
    reporter: Reporter | None = None,
    *,
    ties: list[PreferencePair] | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train a LoRA adapter with DPO-family losses; see the package docstring for the output folder."""
    config.check()
    reporter = reporter or NullReporter()
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _seed_everything(config.seed)
    model, tokenizer = load_policy(config.model_dir, config)
    pad_id = tokenizer.pad_token_id

    all_train, ties_ignored = _split_ties(config, train_pairs, ties)
    eval_pairs = list(eval_pairs or [])
    objective = Objective.from_config(config, all_train)
    tokenize = dict(max_length=config.max_length, truncation_mode=config.truncation_mode)
    items, dropped = tokenize_pairs(all_train, tokenizer, **tokenize)
    eval_items, eval_dropped = tokenize_pairs(eval_pairs, tokenizer, **tokenize)
    if not items:
        raise ValueError(f"no training pairs left: {dropped} prompts are longer than max_length={config.max_length}")

    model_sha = model_digest(config.model_dir)
    ref_cache_hit = None
    if config.precompute_ref_logps:
        cache = dict(
            model_sha=model_sha,
            cache_dir=config.ref_cache_dir,
            batch_size=config.batch_size,
            share_prompt=config.share_prompt,
        )
        ref_cache_hit = attach_reference_logps(model, items, pad_token_id=pad_id, **cache)
        attach_reference_logps(model, eval_items, pad_token_id=pad_id, **cache)

    steps_per_epoch = _steps_per_epoch(items, config)
    total_steps = config.max_steps or steps_per_epoch * config.epochs
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config, total_steps))
    device = next(model.parameters()).device
    scaler = torch.amp.GradScaler(device.type, enabled=next(model.parameters()).dtype == torch.float16)
    resolved = {
        "config": config.to_dict(),
        "loss_types": objective.loss_types,
        "loss_weights": objective.loss_weights,
        "label_smoothing": objective.label_smoothing,
        "tie_strength": objective.tie_strength,
        "total_steps": total_steps,
        "train_sha256": pairs_sha256(all_train),
        "eval_sha256": pairs_sha256(eval_pairs),
        "base_model_sha256": model_sha,
        "num_train_pairs": len(items),
        "num_eval_pairs": len(eval_items),
        "dropped_train": dropped,
        "dropped_eval": eval_dropped,
        "ties_ignored": ties_ignored,
        "ref_cache_hit": ref_cache_hit,
        "device": str(device),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
    }
    log = MetricsLog(out)
    step = 0
    checkpoint = latest_checkpoint(out) if resume else None
    if checkpoint is not None:
        _check_resumable(out, resolved["train_sha256"])
        step = load_checkpoint(checkpoint, model, optimizer, scheduler)
        log.truncate_after(step)
    else:
        log.reset()
    write_json(out / "config.json", resolved)

    plan = _step_plan(items, config)
    for _ in range(step):  # fast-forward the data order to where the checkpoint left off
        next(plan)
    reporter.start(total_steps)
    model.train()
    status, metrics = "completed", {}
    seconds, pairs, tokens, timed = 0.0, 0, 0, 0
    while step < total_steps:
        if reporter.should_stop():
            status = "cancelled"
            break
        started = time.perf_counter()
        done = _train_step(model, items, next(plan), objective, config, pad_id, trainable, optimizer, scheduler, scaler)
        step += 1
        seconds += time.perf_counter() - started
        pairs += done["pairs"]
        tokens += done["tokens"]
        timed += 1
        metrics = done["metrics"]
        metrics.update(
            pairs_per_s=pairs / seconds,
            tokens_per_s=tokens / seconds,
            eta_s=(total_steps - step) * seconds / timed,
            epoch=step / steps_per_epoch,
        )
        if config.eval_every and eval_items and (step % config.eval_every == 0 or step == total_steps):
            scores = score_pairs(model, eval_items, batch_size=config.batch_size, pad_token_id=pad_id)
            metrics.update({f"eval/{k}": v for k, v in summarize(scores, objective).items()})
        log.append(step, metrics)
        reporter.log(step, metrics)
        problem = divergence(metrics, config.divergence_margin)
        if problem:
            raise TrainingDiverged(f"step {step}: {problem}; lower the learning rate or β, or check the data")
        if config.checkpoint_every and step % config.checkpoint_every == 0 and step < total_steps:
            reporter.checkpoint(step, str(save_checkpoint(out, step, model, optimizer, scheduler)))

    if status == "cancelled":
        reporter.checkpoint(step, str(save_checkpoint(out, step, model, optimizer, scheduler)))
        return TrainResult(status, str(out), step, total_steps, metrics, {})

    model.save_pretrained(out)
    report = build_report(
        model,
        tokenizer,
        eval_pairs,
        eval_items,
        objective,
        batch_size=config.batch_size,
        num_samples=config.num_samples,
        max_new_tokens=config.sample_max_new_tokens,
        seed=config.seed,
        dropped=eval_dropped,
    )
    problem = divergence({f"eval/{k}": v for k, v in report.get("metrics", {}).items()}, config.divergence_margin)
    if problem:
        raise TrainingDiverged(f"final evaluation: {problem}; lower the learning rate or β, or check the data")
    write_json(out / "eval_report.json", report)
    write_model_card(out, resolved, report, step)
    return TrainResult(status, str(out), step, total_steps, metrics, report)
