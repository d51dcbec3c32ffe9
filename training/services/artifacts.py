"""Downloads built from a finished run's output folder."""

from __future__ import annotations

import zipfile
from pathlib import Path

from training.models import TrainingRun
from training.services import RunRejected

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "README.md", "config.json", "eval_report.json")


def adapter_zip(*, run: TrainingRun) -> Path:
    """The adapter and its report as one zip (built once, beside the adapter); RunRejected before success."""
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise RunRejected([f"run #{run.id} is {run.status}; the adapter exists once it has succeeded"])
    out = Path(run.output_dir)
    target = out / f"adapter-run-{run.id}.zip"
    if not (out / "adapter_model.safetensors").is_file():  # the output folder was moved or cleaned up
        raise RunRejected([f"run #{run.id}: its adapter files are no longer in {out}"])
    if not target.is_file():
        partial = target.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in ADAPTER_FILES:
                if (out / name).is_file():
                    archive.write(out / name, arcname=name)
        partial.replace(target)
    return target
