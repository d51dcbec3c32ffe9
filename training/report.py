"""The engine's eval_report.json shaped for templates (whose lookups cannot spell `rewards/margins`)."""

from __future__ import annotations

from typing import Any

from training.models import TrainingRun

METRIC_LABELS = {
    "rewards/chosen": "Reward, chosen",
    "rewards/rejected": "Reward, rejected",
    "rewards/margins": "Reward margin",
    "rewards/accuracies": "Preference accuracy",
    "reference_accuracy": "Reference accuracy",
    "logps/chosen": "Log-prob, chosen",
    "logps/rejected": "Log-prob, rejected",
    "loss": "Eval loss",
    "ties/abs_margins": "|margin| on ties",
}
COMPARED_CONFIG = ("loss_type", "beta", "learning_rate", "max_steps", "epochs", "batch_size", "lora_r", "lora_alpha")


def report_context(*, run: TrainingRun) -> dict[str, Any] | None:
    report = run.eval_report
    if run.status != TrainingRun.Status.SUCCEEDED or not report:
        return None
    metrics = report.get("metrics") or {}
    slices = report.get("slices") or {}
    accuracy, baseline = report.get("preference_accuracy"), report.get("reference_preference_accuracy")
    return {
        "num_pairs": report.get("num_pairs", 0),
        "dropped": report.get("dropped_over_length", 0),
        "accuracy": accuracy,
        "baseline": baseline,
        "lift": accuracy - baseline if accuracy is not None and baseline is not None else None,
        "margin": report.get("reward_margin"),
        "eval_loss": report.get("eval_loss"),
        "kl": report.get("kl"),
        "ties": report.get("ties"),
        "metrics": [(METRIC_LABELS.get(key, key), value) for key, value in sorted(metrics.items())],
        "rewards": {
            "chosen": metrics.get("rewards/chosen"),
            "rejected": metrics.get("rewards/rejected"),
            "margin": metrics.get("rewards/margins"),
        },
        "distribution": report.get("reward_distribution"),
        "slices": [
            {
                "kind": kind,
                "rows": [
                    {
                        "value": value,
                        "count": row.get("count"),
                        "accuracy": row.get("preference_accuracy"),
                        "margin": row.get("reward_margin"),
                    }
                    for value, row in rows.items()
                ],
            }
            for kind, rows in slices.items()
            if rows
        ],
        "samples": report.get("samples") or [],
    }


def compare_rows(a: TrainingRun, b: TrainingRun) -> list[dict[str, Any]]:
    """Side-by-side rows: headline metrics first, then the settings that differ most often between runs."""
    reports = [report_context(run=a) or {}, report_context(run=b) or {}]
    rows = [
        {"label": "Status", "values": [a.status, b.status], "numeric": False},
        {"label": "Snapshot", "values": [f"v{r.snapshot.version}" for r in (a, b)], "numeric": False},
        {"label": "Base model", "values": [a.base_model.name, b.base_model.name], "numeric": False},
        {"label": "Steps", "values": [a.step, b.step], "numeric": False},
    ]
    for key, label in (
        ("accuracy", "Held-out preference accuracy"),
        ("baseline", "Reference accuracy"),
        ("lift", "Lift over reference"),
        ("margin", "Reward margin"),
        ("eval_loss", "Eval loss"),
    ):
        rows.append({"label": label, "values": [r.get(key) for r in reports], "numeric": True})
    rows.append(
        {
            "label": "KL per sequence",
            "values": [(r.get("kl") or {}).get("per_sequence") for r in reports],
            "numeric": True,
        }
    )
    for key in COMPARED_CONFIG:
        values = [a.config.get(key), b.config.get(key)]
        rows.append({"label": key, "values": values, "numeric": False, "differs": values[0] != values[1]})
    return rows
