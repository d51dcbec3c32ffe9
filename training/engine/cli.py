"""Command line: `python -m training.engine SUBCOMMAND ...` (`train`, `make-tiny-model`; cli_generate adds
`make-smollm2-model` and `generate`).

`train`'s setting flags are generated from the settings schema (`--beta`, `--lora-r`, …, with the short aliases
`--lr`, `--loss`, `--grad-accum`, `--model`, `--out`). A `--config` JSON file gives any settings; a flag overrides
the file only when it is actually given, and the schema's defaults fill the rest. Arguments and data files are
checked before the model is loaded, and problems are printed as one line each (exit status 2), never as a traceback.

A new subcommand is a `(add_arguments, run)` pair in `COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from training.engine import cli_generate
from training.engine.config import ConfigError, EngineConfig
from training.engine.loss_table import LOSSES
from training.engine.settings_schema import GROUPS, SETTINGS, Setting


def _parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _value_parser(setting: Setting) -> Callable[[str], Any]:
    """Turns a flag's text into the setting's value; the schema's checks then judge the value."""

    def parse(text: str) -> Any:
        if setting.optional and text.lower() in ("none", "null"):
            return None
        try:
            if setting.kind == "int":
                return int(text)
            if setting.kind == "number":
                return float(text)
            if setting.kind == "weights":
                return [float(x) for x in _parse_list(text)]
            if setting.kind == "smoothing":
                return text if text == "auto" else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {setting.kind}") from None
        if setting.kind == "losses":
            names = _parse_list(text)
            return names[0] if len(names) == 1 else names
        if setting.kind == "modules":
            return text if text == "all-linear" else _parse_list(text)
        return text

    return parse


def _flag_help(setting: Setting) -> str:
    parts = []
    if setting.kind == "losses":
        parts.append(f"comma-separated, from {', '.join(LOSSES)}")
    if setting.choices:
        parts.append(f"one of {', '.join(setting.choices)}")
    elif setting.interval is not None:
        parts.append(f"in {setting.interval}")
    if setting.optional:
        parts.append(f"none: {setting.none_means}")
    if setting.default is not None and not setting.managed:
        parts.append(f"default {setting.default}")
    extras = f" ({'; '.join(parts)})" if parts else ""
    return f"{setting.help}{extras}".replace("%", "%%")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per engine setting, grouped as on the launch form. Unset flags stay out of the namespace."""
    groups = {key: parser.add_argument_group(f"settings: {label.lower()}") for key, label in GROUPS.items()}
    for setting in SETTINGS.values():
        names = [*setting.aliases, setting.flag]
        common = {"dest": setting.name, "default": argparse.SUPPRESS, "help": _flag_help(setting)}
        if setting.kind == "bool":
            groups[setting.group].add_argument(*names, action=argparse.BooleanOptionalAction, **common)
        else:
            choices = setting.choices or None
            groups[setting.group].add_argument(*names, type=_value_parser(setting), choices=choices, **common)


def _add_train_arguments(train: argparse.ArgumentParser) -> None:
    train.add_argument("--train", required=True, help="training pairs, TRL preference JSONL")
    train.add_argument("--eval", help="held-out pairs, TRL preference JSONL")
    train.add_argument("--ties", help="tied pairs (used by the rao_kupper and davidson losses)")
    train.add_argument("--config", help="JSON file of engine settings; flags given on the command line override it")
    train.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    train.add_argument("--no-progress", action="store_true", help="print a line per step instead of a bar")
    add_setting_flags(train)


def config_from_args(args: argparse.Namespace) -> EngineConfig:
    """The `--config` file's settings, overridden by the setting flags actually given; validated."""
    settings: dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as handle:
                settings = json.load(handle)
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError([f"config: cannot read {args.config}: {exc}"]) from None
        if not isinstance(settings, dict):
            raise ConfigError([f"config: {args.config} must hold a JSON object of settings"])
    settings.update({name: getattr(args, name) for name in SETTINGS if hasattr(args, name)})
    return EngineConfig.from_dict(settings)


def _train(args: argparse.Namespace) -> int:
    from training.engine.data import load_pairs

    try:
        config = config_from_args(args)
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

    from training.engine.loop import TrainingDiverged, train_dpo
    from training.engine.reporting import ConsoleReporter

    reporter = ConsoleReporter(progress=not args.no_progress)
    try:
        result = train_dpo(config, train_pairs, eval_pairs, reporter, ties=ties, resume=args.resume)
    except TrainingDiverged as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
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


def _add_tiny_arguments(tiny: argparse.ArgumentParser) -> None:
    tiny.add_argument("directory", metavar="DIR")
    tiny.add_argument("--size", choices=["tiny", "small"], default="tiny")
    tiny.add_argument("--seed", type=int, default=0)


def _make_tiny_model(args: argparse.Namespace) -> int:
    from training.engine.tiny import make_tiny_model

    path = make_tiny_model(args.directory, args.size, seed=args.seed)
    print(f"wrote a {args.size} model to {path}")
    return 0


# name: (help, add_arguments, run)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "make-tiny-model": ("write a random-init Llama model and tokenizer to DIR", _add_tiny_arguments, _make_tiny_model),
    "train": ("train a LoRA adapter on preference pairs", _add_train_arguments, _train),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m training.engine", description="LoRA DPO training engine")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text, description=help_text))
    cli_generate.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in cli_generate.COMMANDS:
        return cli_generate.COMMANDS[args.command](args)
    return COMMANDS[args.command][2](args)
