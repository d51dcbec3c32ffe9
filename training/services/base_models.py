"""Registering local model folders as base models, and checking they are still usable at launch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from training.models import BaseModel
from training.services import RunRejected


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


def model_revision(path: Path) -> str:
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
            "revision": model_revision(folder),
            "parameter_count": sum(_safetensors_parameter_count(w) for w in weights),
            "has_chat_template": _has_chat_template(folder),
            "registered_by": registered_by,
        },
    )
    return model


def base_model_problems(model: BaseModel) -> list[str]:
    folder = Path(model.path)
    if not _inside_model_dirs(folder):
        return [f"base_model: {model.name} lies outside VERDICT_MODEL_DIRS; register a model under them"]
    if not (folder / "config.json").is_file():
        return [f"base_model: {model.name} is missing from {folder}"]
    return []
