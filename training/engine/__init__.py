"""Verdict's LoRA DPO engine: plain torch + transformers + peft, no Django.

    from training.engine import EngineConfig, load_pairs, train_dpo, ConsoleReporter

    config = EngineConfig.from_dict({"model_dir": "...", "output_dir": "out", "loss_type": "sigmoid"})
    result = train_dpo(config, load_pairs("train.jsonl"), load_pairs("test.jsonl"), ConsoleReporter())

The output folder holds the adapter in PEFT format (`PeftModel.from_pretrained(base, out)`), `config.json` (the
resolved config and data SHA-256s), `metrics.jsonl`, `eval_report.json`, a model card `README.md` and
`checkpoints/step-N/` folders that `train_dpo(..., resume=True)` continues from.
"""

from training.engine.config import LOSS_TYPES, TIE_LOSS_TYPES, ConfigError, EngineConfig
from training.engine.data import PreferencePair, load_pairs
from training.engine.loop import TrainResult, train_dpo
from training.engine.reporting import ConsoleReporter, NullReporter, Reporter
from training.engine.tiny import make_tiny_model

__all__ = [
    "LOSS_TYPES",
    "TIE_LOSS_TYPES",
    "ConfigError",
    "ConsoleReporter",
    "EngineConfig",
    "NullReporter",
    "PreferencePair",
    "Reporter",
    "TrainResult",
    "load_pairs",
    "make_tiny_model",
    "train_dpo",
]
