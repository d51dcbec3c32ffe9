"""Writes for training: registering base models, launching, executing, cancelling and resuming runs."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotate import selectors as annotate_selectors
from config.version import code_version
from training.models import BaseModel, TrainingRun
from training.presets import MANAGED_FIELDS, PRESETS

logger = logging.getLogger(__name__)

WORKER_LOST = "worker lost: no heartbeat since {since} (the worker died or was killed); resume to continue"
SNAPSHOT_FILES = {"train": "train.jsonl", "test": "test.jsonl", "ties": "ties.jsonl"}
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "README.md", "config.json", "eval_report.json")


class RunRejected(Exception):
    """A launch or action a user asked for that cannot happen; `errors` are messages they can act on."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


# --- base models -------------------------------------------------------------------------------------------------


def _inside_model_dirs(path: Path) -> bool:
    return any(path.is_relative_to(root) for root in settings.VERDICT_MODEL_DIRS)


def _safetensors_parameter_count(path: Path) -> int:
    """Parameters in a .safetensors file, read from its JSON header (no tensor is loaded)."""
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
    count = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        n = 1
        for dim in info["shape"]:
            n *= dim
        count += n
    return count


def _model_revision(path: Path) -> str:
    digest = hashlib.sha256((path / "config.json").read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}\n".encode())
    return digest.hexdigest()


def _has_chat_template(path: Path) -> bool:
    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    tokenizer_config = path / "tokenizer_config.json"
    if not tokenizer_config.is_file():
        return False
    return bool(json.loads(tokenizer_config.read_text(encoding="utf-8")).get("chat_template"))


def base_model_register(*, name: str, path: str, registered_by: AbstractBaseUser | None = None) -> BaseModel:
    """Register (or refresh) a local model folder; only folders under VERDICT_MODEL_DIRS are accepted."""
    folder = Path(path).expanduser().resolve()
    roots = ", ".join(str(root) for root in settings.VERDICT_MODEL_DIRS)
    if not _inside_model_dirs(folder):
        raise RunRejected([f"path: {folder} is outside the model folders ({roots}); set VERDICT_MODEL_DIRS"])
    if not (folder / "config.json").is_file():
        raise RunRejected([f"path: {folder} has no config.json (is it a transformers model folder?)"])
    weights = sorted(folder.glob("*.safetensors"))
    model, _ = BaseModel.objects.update_or_create(
        path=str(folder),
        defaults={
            "name": name,
            "revision": _model_revision(folder),
            "parameter_count": sum(_safetensors_parameter_count(w) for w in weights),
            "has_chat_template": _has_chat_template(folder),
            "registered_by": registered_by,
        },
    )
    return model


def _base_model_problems(model: BaseModel) -> list[str]:
    folder = Path(model.path)
    if not _inside_model_dirs(folder):
        return [f"base_model: {model.name} lies outside VERDICT_MODEL_DIRS; register a model under them"]
    if not (folder / "config.json").is_file():
        return [f"base_model: {model.name} is missing from {folder}"]
    return []


# --- launching ---------------------------------------------------------------------------------------------------


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
    return {**PRESETS[preset].values, **overrides}


def _snapshot_files(snapshot) -> dict[str, str]:
    """The snapshot's data files that exist, by role; stored on the run so the worker never needs `annotate`."""
    files = {}
    for key, name in SNAPSHOT_FILES.items():
        try:
            files[key] = str(annotate_selectors.snapshot_file_path(snapshot=snapshot, name=name))
        except FileNotFoundError:
            continue
    return files


def _pairs_in(files: dict[str, str], key: str) -> int:
    return _count_rows(Path(files[key])) if key in files else 0


def _engine_config(config: dict[str, Any], *, model_known: bool) -> tuple[dict[str, Any], list[str]]:
    """The engine's own validation: the resolved config as a plain dict, and every problem found."""
    from training.engine import ConfigError, EngineConfig

    try:
        return EngineConfig.from_dict(config).to_dict(), []
    except ConfigError as exc:
        # A missing model is reported in the user's terms (base_model), not as an engine path.
        return config, [e for e in exc.errors if model_known or not e.startswith("model_dir:")]
    except (TypeError, ValueError, AttributeError) as exc:  # a value of a type validation cannot even inspect
        return config, [f"config: a setting has a value of the wrong type ({exc})"]


def _snapshot_problems(snapshot, files: dict[str, str], config: dict[str, Any]) -> list[str]:
    from training.engine import TIE_LOSS_TYPES

    errors = []
    if _pairs_in(files, "train") == 0:
        errors.append(f"snapshot: v{snapshot.version} has no training pairs; export one with judged pairs")
    loss_types = config.get("loss_type")
    loss_types = [loss_types] if isinstance(loss_types, str) else list(loss_types or [])
    tie_loss = next((t for t in loss_types if t in TIE_LOSS_TYPES), None)
    if tie_loss and _pairs_in(files, "ties") == 0:
        errors.append(
            f"loss_type: {tie_loss} learns from ties, but snapshot v{snapshot.version} has none; "
            "pick a loss without ties or export a snapshot that keeps tied pairs"
        )
    return errors


def run_launch(
    *,
    snapshot_id: int,
    base_model_id: int,
    preset: str,
    overrides: dict[str, Any] | None = None,
    launched_by: AbstractBaseUser | None,
) -> TrainingRun:
    """Validate everything, create the run and queue it once the transaction commits; RunRejected if invalid."""
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
        errors += _base_model_problems(base_model)

    output_dir = Path(settings.DATA_DIR) / "runs" / uuid.uuid4().hex
    config.update(
        model_dir=base_model.path if base_model else "",
        output_dir=str(output_dir),
        ref_cache_dir=str(Path(settings.DATA_DIR) / "ref-cache"),
    )
    config, config_errors = _engine_config(config, model_known=base_model is not None)
    errors += config_errors
    files = _snapshot_files(snapshot) if snapshot else {}
    if snapshot:
        errors += _snapshot_problems(snapshot, files, config)
    if errors:
        raise RunRejected(errors)

    with transaction.atomic():
        run = TrainingRun.objects.create(
            snapshot_id=snapshot.id,
            base_model=base_model,
            preset=preset,
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
            },
            output_dir=str(output_dir),
            launched_by=launched_by,
        )
        _enqueue(run)
    return run


def _enqueue(run: TrainingRun) -> None:
    """Queue the training task once the surrounding transaction commits (the task id is known up front)."""
    from training.tasks import train_run

    run.celery_task_id = str(uuid.uuid4())
    run.save(update_fields=["celery_task_id"])
    train_run.apply_async_on_commit(args=(run.id,), task_id=run.celery_task_id)


# --- executing (in the worker) -----------------------------------------------------------------------------------


def run_claim(*, run_id: int) -> bool:
    """queued → running by conditional update: a second delivery of the same task claims nothing."""
    now = timezone.now()
    claimed = TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.RUNNING, started_at=now, heartbeat_at=now, error="", attempt=F("attempt") + 1
    )
    return claimed == 1


def _finish(run_id: int, attempt: int, status: str, **fields: Any) -> None:
    # Only this attempt of a still-running run is finished: if it was declared lost (and maybe resumed) meanwhile,
    # that decision stands.
    TrainingRun.objects.filter(id=run_id, attempt=attempt, status=TrainingRun.Status.RUNNING).update(
        status=status, finished_at=timezone.now(), heartbeat_at=timezone.now(), **fields
    )


def run_execute(*, run_id: int) -> str | None:
    """Claim the run and train it to the end; returns the final status, or None if another delivery had it."""
    if not run_claim(run_id=run_id):
        return None
    from training.engine import EngineConfig, load_pairs, train_dpo
    from training.reporting import DatabaseReporter, Heartbeat, json_safe

    run = TrainingRun.objects.get(id=run_id)
    reporter = DatabaseReporter(run_id=run.id, attempt=run.attempt, interval_s=settings.TRAINING_PROGRESS_INTERVAL_S)
    with Heartbeat(run_id=run.id, attempt=run.attempt, every_s=settings.TRAINING_HEARTBEAT_S):
        try:
            config = EngineConfig.from_dict(run.config)
            files = run.data_files
            train = load_pairs(files["train"])
            test = load_pairs(files["test"]) if _pairs_in(files, "test") else []
            ties = load_pairs(files["ties"], is_tie=True) if _pairs_in(files, "ties") else []
            reporter.note("resuming from the last checkpoint" if run.resume else "loading the model and data")
            result = train_dpo(config, train, test, reporter, ties=ties, resume=run.resume)
        except Exception as exc:  # any failure is recorded on the run; the task never retries
            logger.exception("training run %s failed", run.id)
            reporter.note(f"failed: {type(exc).__name__}: {exc}")
            reporter.flush()
            _finish(run.id, run.attempt, TrainingRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
            return TrainingRun.Status.FAILED
    if result.status == "cancelled":
        reporter.note(f"cancelled at step {result.final_step}")
        reporter.flush()
        _finish(run.id, run.attempt, TrainingRun.Status.CANCELLED, step=result.final_step)
        return TrainingRun.Status.CANCELLED
    reporter.note(f"finished: {result.final_step} steps, report written")
    reporter.flush()
    _finish(
        run.id,
        run.attempt,
        TrainingRun.Status.SUCCEEDED,
        step=result.final_step,
        total_steps=result.total_steps,
        eta_seconds=0.0,
        eval_report=json_safe(result.eval_report),
    )
    return TrainingRun.Status.SUCCEEDED


# --- cancelling, resuming, detecting lost workers ----------------------------------------------------------------


def run_cancel(*, run_id: int) -> TrainingRun:
    """A queued run is cancelled at once; a running one is asked to stop (the worker checkpoints and stops)."""
    now = timezone.now()
    TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.QUEUED).update(
        status=TrainingRun.Status.CANCELLED, finished_at=now
    )
    TrainingRun.objects.filter(id=run_id, status=TrainingRun.Status.RUNNING).update(cancel_requested=True)
    run = TrainingRun.objects.get(id=run_id)
    if run.status not in (TrainingRun.Status.CANCELLED, TrainingRun.Status.RUNNING):
        raise RunRejected([f"run #{run.id} is {run.status}; only queued or running runs can be cancelled"])
    return run


def run_resume(*, run_id: int) -> TrainingRun:
    """Queue a failed or cancelled run again; it continues from its last checkpoint to the same final step."""
    with transaction.atomic():
        resumed = TrainingRun.objects.filter(
            id=run_id, status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED]
        ).update(status=TrainingRun.Status.QUEUED, resume=True, cancel_requested=False, finished_at=None)
        run = TrainingRun.objects.get(id=run_id)
        if not resumed:
            raise RunRejected([f"run #{run.id} is {run.status}; only failed or cancelled runs can be resumed"])
        _enqueue(run)
    return run


def runs_mark_lost(*, now=None) -> int:
    """Running runs whose heartbeat went stale are failed as "worker lost"; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.TRAINING_STALE_AFTER_S)
    stale = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=cutoff)
    marked = 0
    for run_id, heartbeat in stale.values_list("id", "heartbeat_at"):
        marked += TrainingRun.objects.filter(
            id=run_id, status=TrainingRun.Status.RUNNING, heartbeat_at=heartbeat
        ).update(
            status=TrainingRun.Status.FAILED,
            finished_at=now,
            error=WORKER_LOST.format(since=heartbeat.isoformat(timespec="seconds")),
        )
    return marked


# --- downloads ---------------------------------------------------------------------------------------------------


def adapter_zip(*, run: TrainingRun) -> Path:
    """The adapter and its report as one zip (built once, beside the adapter); RunRejected before success."""
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise RunRejected([f"run #{run.id} is {run.status}; the adapter exists once it has succeeded"])
    out = Path(run.output_dir)
    target = out / f"adapter-run-{run.id}.zip"
    if not target.is_file():
        partial = target.with_suffix(".zip.partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in ADAPTER_FILES:
                if (out / name).is_file():
                    archive.write(out / name, arcname=name)
        partial.replace(target)
    return target
