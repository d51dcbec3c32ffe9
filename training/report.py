"""The engine's eval_report.json shaped for templates (whose lookups cannot spell `rewards/margins`)."""

from __future__ import annotations

import json
from typing import Any

from training.models import TrainingRun
from training.presets import MANAGED_FIELDS

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


def compare_rows(runs: list[TrainingRun]) -> list[dict[str, Any]]:
    """One column per run: what they are, their headline numbers, then every engine setting that differs."""
    reports = [report_context(run=run) or {} for run in runs]
    rows = [
        {"label": "Name", "values": [run.name or "—" for run in runs], "numeric": False},
        {"label": "Status", "values": [getattr(run, "shown_status", run.status) for run in runs], "numeric": False},
        {"label": "Snapshot", "values": [f"v{run.snapshot.version}" for run in runs], "numeric": False},
        {"label": "Base model", "values": [run.base_model.name for run in runs], "numeric": False},
        {"label": "Steps", "values": [run.step for run in runs], "numeric": False},
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
    names = sorted({key for run in runs for key in run.config} - set(MANAGED_FIELDS))
    for key in names:
        values = [run.config.get(key) for run in runs]
        if len({json.dumps(value, sort_keys=True) for value in values}) > 1:
            rows.append({"label": key, "values": values, "numeric": False, "differs": True})
    return rows


def compare_series(runs: list[TrainingRun], series: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs' metric series (selectors.run_metric_series) labelled for the overlaid charts, in the runs' order."""
    return [{"id": run.id, "label": f"#{run.id} {run.name}".strip(), **series[run.id]} for run in runs]
