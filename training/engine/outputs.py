"""The output folder: resolved config, metrics log, eval report and model card beside the adapter."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"


def write_json(path: Path, data: Any) -> None:
    partial = path.with_suffix(path.suffix + ".tmp")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n", encoding="utf-8")
    partial.replace(path)


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


class MetricsLog:
    """metrics.jsonl: one line per logged step ({"step": n, ...metrics})."""

    def __init__(self, output_dir: Path):
        self.path = output_dir / METRICS_FILE

    def truncate_after(self, step: int) -> None:
        """On resume: forget lines logged after the checkpoint, which the resumed run will log again."""
        if not self.path.exists():
            return
        kept = [line for line in self.path.read_text().splitlines() if line and json.loads(line)["step"] <= step]
        self.path.write_text("".join(line + "\n" for line in kept))

    def reset(self) -> None:
        self.path.write_text("")

    def append(self, step: int, metrics: dict[str, float]) -> None:
        row = {"step": step, **{k: _finite(v) for k, v in metrics.items()}}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]


def write_model_card(output_dir: Path, resolved: dict[str, Any], report: dict[str, Any], final_step: int) -> None:
    config = resolved["config"]
    lines = [
        "---",
        "library_name: peft",
        "tags: [dpo, lora, verdict]",
        "---",
        "",
        "# LoRA DPO adapter",
        "",
        f"Trained by the Verdict engine on `{config['model_dir']}` for {final_step} optimizer steps.",
        "",
        "## Training",
        "",
        f"- loss: {', '.join(resolved['loss_types'])} (weights {resolved['loss_weights']}), beta {config['beta']}",
        f"- label smoothing: {resolved['label_smoothing']}; tie strength: {resolved['tie_strength']}",
        f"- learning rate {config['learning_rate']} ({config['lr_scheduler']}, warmup ratio {config['warmup_ratio']}),"
        f" batch {config['batch_size']} × accumulation {config['grad_accum_steps']}, epochs {config['epochs']}",
        f"- LoRA r={config['lora_r']}, alpha={config['lora_alpha']}, dropout={config['lora_dropout']},"
        f" target modules {config['target_modules']}",
        f"- pairs: {resolved['num_train_pairs']} train ({resolved['dropped_train']} dropped as over-long),"
        f" {resolved['num_eval_pairs']} eval; data SHA-256 `{resolved['train_sha256']}`",
        "",
        "## Evaluation (held-out pairs)",
        "",
    ]
    if report.get("num_pairs"):
        lines += [
            f"- preference accuracy: {report['preference_accuracy']:.3f}"
            f" (reference model: {report['reference_preference_accuracy']:.3f})",
            f"- mean reward margin: {report['reward_margin']:.4f}",
        ]
        if report.get("kl"):
            lines.append(f"- KL(reference ‖ adapter) per sequence: {report['kl']['per_sequence']:.4f}")
    else:
        lines.append("- no held-out pairs")
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from peft import PeftModel",
        "from transformers import AutoModelForCausalLM",
        "",
        f"base = AutoModelForCausalLM.from_pretrained({config['model_dir']!r})",
        f"model = PeftModel.from_pretrained(base, {str(output_dir)!r})",
        "```",
        "",
    ]
    (output_dir / "README.md").write_text("\n".join(lines), encoding="utf-8")
