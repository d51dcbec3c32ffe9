"""Verdict's LoRA DPO engine: plain torch + transformers + peft, no Django.

    from training.engine import EngineConfig, load_pairs, train_dpo, ConsoleReporter

    config = EngineConfig.from_dict({"model_dir": "...", "output_dir": "out", "loss_type": "sigmoid"})
    result = train_dpo(config, load_pairs("train.jsonl"), load_pairs("test.jsonl"), ConsoleReporter())

The output folder holds the adapter in PEFT format (`PeftModel.from_pretrained(base, out)`), `config.json` (the
resolved config and data SHA-256s), `metrics.jsonl`, `eval_report.json`, a model card `README.md` and
`checkpoints/step-N/` folders that `train_dpo(..., resume=True)` continues from.

The public names load on first use (PEP 562), so importing the package, its settings schema or its config does not
import torch: the web process validates and describes runs without paying for it.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "LOSS_TYPES": "training.engine.config",
    "TIE_LOSS_TYPES": "training.engine.config",
    "ConfigError": "training.engine.config",
    "EngineConfig": "training.engine.config",
    "PreferencePair": "training.engine.data",
    "load_pairs": "training.engine.data",
    "TrainingDiverged": "training.engine.loop",
    "TrainResult": "training.engine.loop",
    "train_dpo": "training.engine.loop",
    "ConsoleReporter": "training.engine.reporting",
    "NullReporter": "training.engine.reporting",
    "Reporter": "training.engine.reporting",
    "make_tiny_model": "training.engine.tiny",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'training.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
