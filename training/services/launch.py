"""Launching a run: resolve the preset and overrides, validate everything, create the run and queue it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from annotate import selectors as annotate_selectors
from config.version import code_version
from training.engine.config import ConfigError, EngineConfig
from training.engine.loss_table import TIE_LOSS_TYPES
from training.models import BaseModel, TrainingRun
from training.presets import MANAGED_FIELDS, PRESETS
from training.services import RunRejected
from training.services.base_models import base_model_problems
from training.services.workers import device_problems

# A run's notes (why it exists, what it tries): the form and the API refuse longer text.
RUN_NOTES_MAX_LENGTH = 10_000
SNAPSHOT_FILES = {"train": "train.jsonl", "test": "test.jsonl", "ties": "ties.jsonl"}


def _count_rows(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def resolve_config(*, preset: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The preset's values with the user's overrides on top; raises RunRejected for an unknown preset or field."""
    if preset not in PRESETS:
        raise RunRejected([f"preset: unknown preset {preset!r}; choose from {', '.join(PRESETS)}"])
    if not isinstance(overrides, dict):
        raise RunRejected(["overrides: expected an object of engine settings"])
    managed = [key for key in overrides if key in MANAGED_FIELDS]
    if managed:
        raise RunRejected([f"{key}: set by Verdict for each run; remove it" for key in managed])
    return {**PRESETS[preset].changes, **overrides}


def _snapshot_files(snapshot) -> dict[str, str]:
    """The snapshot's data files that exist, by role; stored on the run so the worker never needs `annotate`."""
    files = {}
    for key, name in SNAPSHOT_FILES.items():
        try:
            files[key] = str(annotate_selectors.snapshot_file_path(snapshot=snapshot, name=name))
        except FileNotFoundError:
            continue
    return files


def pairs_in(files: dict[str, str], key: str) -> int:
    return _count_rows(Path(files[key])) if key in files else 0


def _engine_config(config: dict[str, Any], *, model_known: bool) -> tuple[dict[str, Any], list[str]]:
    """The engine's own validation (torch-free): the resolved config as a plain dict, and every problem found."""
    try:
        return EngineConfig.from_dict(config).to_dict(), []
    except ConfigError as exc:
        # A missing model is reported in the user's terms (base_model), not as an engine path.
        return config, [e for e in exc.errors if model_known or not e.startswith("model_dir:")]


def _snapshot_problems(snapshot, files: dict[str, str], config: dict[str, Any]) -> list[str]:
    errors = []
    if pairs_in(files, "train") == 0:
        errors.append(f"snapshot: v{snapshot.version} has no training pairs; export one with judged pairs")
    loss_types = config.get("loss_type")
    loss_types = [loss_types] if isinstance(loss_types, str) else list(loss_types or [])
    tie_loss = next((t for t in loss_types if t in TIE_LOSS_TYPES), None)
    if tie_loss and pairs_in(files, "ties") == 0:
        errors.append(
            f"loss_type: {tie_loss} learns from ties, but snapshot v{snapshot.version} has none; "
            "pick a loss without ties or export a snapshot that keeps tied pairs"
        )
    return errors


def _parent(parent_run_id: int | None, base_model: BaseModel | None) -> tuple[TrainingRun | None, list[str]]:
    """The run whose adapter this one continues (the previous round), if any, with any reason it cannot be."""
    if parent_run_id is None:
        return None, []
    parent = TrainingRun.objects.filter(id=parent_run_id).first()
    if parent is None or parent.status != TrainingRun.Status.SUCCEEDED:
        return None, [f"parent_run: no succeeded run with id {parent_run_id} (only a finished run has an adapter)"]
    if base_model is not None and parent.base_model_id != base_model.id:
        return None, [f"parent_run: run #{parent.id} trained {parent.base_model}, not {base_model}; pick that model"]
    return parent, []


def run_launch(
    *,
    snapshot_id: int,
    base_model_id: int,
    preset: str,
    overrides: dict[str, Any] | None = None,
    launched_by: AbstractBaseUser | None,
    name: str = "",
    notes: str = "",
    parent_run_id: int | None = None,
) -> TrainingRun:
    """Validate everything, create the run and queue it once the transaction commits; RunRejected if invalid.

    With `parent_run_id` the run starts from that run's adapter instead of a fresh one (the next on-policy round).
    """
    errors: list[str] = []
    config = resolve_config(preset=preset, overrides=overrides or {})
    try:
        snapshot = annotate_selectors.snapshot_get(snapshot_id=snapshot_id)
    except ObjectDoesNotExist:
        snapshot = None
        errors.append(f"snapshot: no snapshot with id {snapshot_id}")
    base_model = BaseModel.objects.filter(id=base_model_id).first()
    if base_model is None:
        errors.append(f"base_model: no registered model with id {base_model_id}")
    else:
        errors += base_model_problems(base_model)
    parent, parent_errors = _parent(parent_run_id, base_model)
    errors += parent_errors

    output_dir = Path(settings.DATA_DIR) / "runs" / uuid.uuid4().hex
    config.update(
        model_dir=base_model.path if base_model else "",
        output_dir=str(output_dir),
        ref_cache_dir=str(Path(settings.DATA_DIR) / "ref-cache"),
        init_adapter_dir=parent.output_dir if parent else None,
    )
    config, config_errors = _engine_config(config, model_known=base_model is not None)
    errors += config_errors
    files = _snapshot_files(snapshot) if snapshot else {}
    if snapshot:
        errors += _snapshot_problems(snapshot, files, config)
    errors += device_problems(config)
    if errors:
        raise RunRejected(errors)

    with transaction.atomic():
        run = TrainingRun.objects.create(
            snapshot_id=snapshot.id,
            base_model=base_model,
            parent_run=parent,
            preset=preset,
            name=name,
            notes=notes,
            config=config,
            data_files=files,
            lineage={
                "snapshot_id": snapshot.id,
                "snapshot_version": snapshot.version,
                "manifest_sha256": snapshot.manifest_sha256,
                "base_model": base_model.name,
                "base_model_path": base_model.path,
                "base_model_revision": base_model.revision,
                "code_version": code_version(),
                **({"parent_run_id": parent.id} if parent else {}),
            },
            output_dir=str(output_dir),
            launched_by=launched_by,
        )
        enqueue(run)
    return run


def enqueue(run: TrainingRun) -> None:
    """Queue the training task once the surrounding transaction commits (the task id is known up front)."""
    from training.tasks import train_run

    run.celery_task_id = str(uuid.uuid4())
    TrainingRun.objects.filter(id=run.id, status=TrainingRun.Status.QUEUED).update(celery_task_id=run.celery_task_id)
    train_run.apply_async_on_commit(args=(run.id,), task_id=run.celery_task_id)
