"""Command line: `python -m training.engine make-tiny-model DIR` and `python -m training.engine train ...`
(and cli_generate's `make-smollm2-model` and `generate`).

Arguments and data files are checked before the model is loaded, and problems are printed as one line each
(exit status 2), never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from training.engine import cli_generate
from training.engine.config import LOSS_TYPES, ConfigError, EngineConfig


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.engine", description="LoRA DPO training engine")
    commands = parser.add_subparsers(dest="command", required=True)

    tiny = commands.add_parser("make-tiny-model", help="write a random-init Llama model and tokenizer to DIR")
    tiny.add_argument("directory", metavar="DIR")
    tiny.add_argument("--size", choices=["tiny", "small"], default="tiny")
    tiny.add_argument("--seed", type=int, default=0)

    train = commands.add_parser("train", help="train a LoRA adapter on preference pairs")
    train.add_argument("--model", required=True, help="base model folder (transformers format)")
    train.add_argument("--train", required=True, help="training pairs, TRL preference JSONL")
    train.add_argument("--eval", help="held-out pairs, TRL preference JSONL")
    train.add_argument("--ties", help="tied pairs (used by the rao_kupper and davidson losses)")
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--loss", default="sigmoid", help=f"loss type, or several joined by commas; one of {LOSS_TYPES}")
    train.add_argument("--loss-weights", help="comma-separated weights, one per loss type")
    train.add_argument("--beta", type=float, default=0.1)
    train.add_argument("--label-smoothing", default="0", help='a number, or "auto" for the robust loss')
    train.add_argument("--tie-strength", type=float)
    train.add_argument("--epochs", type=int, default=1)
    train.add_argument("--max-steps", type=int)
    train.add_argument("--lr", type=float, default=5e-5)
    train.add_argument("--batch-size", type=int, default=8)
    train.add_argument("--grad-accum", type=int, default=1)
    train.add_argument("--max-length", type=int, default=1024)
    train.add_argument("--truncation-mode", default="keep_start")
    train.add_argument("--lora-r", type=int, default=16)
    train.add_argument("--lora-alpha", type=float, default=32)
    train.add_argument("--lr-scheduler", default="cosine")
    train.add_argument("--warmup-ratio", type=float, default=0.1)
    train.add_argument("--gradient-checkpointing", action="store_true")
    train.add_argument("--precompute-ref-logps", action="store_true")
    train.add_argument("--ref-cache-dir")
    train.add_argument("--eval-every", type=int)
    train.add_argument("--checkpoint-every", type=int)
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--device", default="auto")
    train.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    train.add_argument("--config", help="JSON file of further EngineConfig settings (flags take precedence)")
    train.add_argument("--no-progress", action="store_true", help="print a line per step instead of a bar")
    cli_generate.add_parsers(commands)
    return parser


def _floats(text: str | None, name: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise ConfigError([f"{name}: expected comma-separated numbers, got {text!r}"]) from None


def _config_from_args(args: argparse.Namespace) -> EngineConfig:
    settings: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as handle:
                settings = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError([f"--config: cannot read {args.config}: {exc}"]) from None
    losses = [t.strip() for t in args.loss.split(",") if t.strip()]
    smoothing: float | str = args.label_smoothing
    if smoothing != "auto":
        try:
            smoothing = float(smoothing)
        except ValueError:
            raise ConfigError([f'--label-smoothing: a number or "auto", got {smoothing!r}']) from None
    settings.update(
        model_dir=args.model,
        output_dir=args.out,
        loss_type=losses[0] if len(losses) == 1 else losses,
        loss_weights=_floats(args.loss_weights, "--loss-weights"),
        beta=args.beta,
        label_smoothing=smoothing,
        tie_strength=args.tie_strength,
        epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        grad_accum_steps=args.grad_accum,
        max_length=args.max_length,
        truncation_mode=args.truncation_mode,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lr_scheduler=args.lr_scheduler,
        warmup_ratio=args.warmup_ratio,
        gradient_checkpointing=args.gradient_checkpointing,
        precompute_ref_logps=args.precompute_ref_logps,
        ref_cache_dir=args.ref_cache_dir,
        eval_every=args.eval_every,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        device=args.device,
    )
    return EngineConfig.from_dict(settings)


def _train(args: argparse.Namespace) -> int:
    from training.engine.data import load_pairs

    try:
        config = _config_from_args(args)
    except ConfigError as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        train_pairs = load_pairs(args.train)
        eval_pairs = load_pairs(args.eval) if args.eval else []
        ties = load_pairs(args.ties, is_tie=True) if args.ties else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from training.engine.loop import train_dpo
    from training.engine.reporting import ConsoleReporter

    reporter = ConsoleReporter(progress=not args.no_progress)
    try:
        result = train_dpo(config, train_pairs, eval_pairs, reporter, ties=ties, resume=args.resume)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        reporter.close()
    report = result.eval_report
    print(f"{result.status}: step {result.final_step}/{result.total_steps}, adapter in {result.output_dir}")
    if report.get("num_pairs"):
        print(
            f"held-out preference accuracy {report['preference_accuracy']:.3f}"
            f" (reference {report['reference_preference_accuracy']:.3f}), margin {report['reward_margin']:.4f}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command in cli_generate.COMMANDS:
        return cli_generate.COMMANDS[args.command](args)
    if args.command == "make-tiny-model":
        from training.engine.tiny import make_tiny_model

        path = make_tiny_model(args.directory, args.size, seed=args.seed)
        print(f"wrote a {args.size} model to {path}")
        return 0
    return _train(args)
