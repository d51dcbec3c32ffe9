"""SHA-256 digests of model and adapter folders, computed once and cached beside the weights.

Hashing a 500 MB model takes seconds; generation records the digest of every model it samples from, and training
keys its reference cache by it. The cache file (`.verdict-sha256`, no suffix so it is never hashed itself) stores
the digest with each hashed file's name, size and modification time, and is trusted only while those still match.
A folder that cannot be written to is simply hashed every time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MODEL_FILE_SUFFIXES = (".safetensors", ".bin", ".json", ".model", ".txt", ".jinja")
ADAPTER_FILE_PREFIX = "adapter_"
CACHE_FILE = ".verdict-sha256"


def model_files(folder: Path) -> list[Path]:
    """Weights, config and tokenizer files of a transformers model folder, in name order."""
    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in MODEL_FILE_SUFFIXES]


def adapter_files(folder: Path) -> list[Path]:
    """A PEFT adapter's own files (`adapter_config.json`, `adapter_model.safetensors`), not the run's reports."""
    return [p for p in model_files(folder) if p.name.startswith(ADAPTER_FILE_PREFIX)]


def files_sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _stamp(paths: list[Path]) -> list[list]:
    return [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in paths]


def _cached_sha256(folder: Path, paths: list[Path], kind: str) -> str:
    cache = folder / CACHE_FILE
    stamp = _stamp(paths)
    try:
        entries = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = {}
    entry = entries.get(kind) if isinstance(entries, dict) else None
    if isinstance(entry, dict) and entry.get("files") == stamp:
        return entry["sha256"]
    sha = files_sha256(paths)
    entries = entries if isinstance(entries, dict) else {}
    entries[kind] = {"files": stamp, "sha256": sha}
    partial = folder / f"{CACHE_FILE}.{os.getpid()}"
    try:
        partial.write_text(json.dumps(entries), encoding="utf-8")
        partial.replace(cache)  # atomic: a concurrent reader sees the old cache or the new one
    except OSError:
        partial.unlink(missing_ok=True)
    return sha


def model_digest(folder: str | os.PathLike) -> str:
    """SHA-256 over a model folder's weights, config and tokenizer files (cached)."""
    path = Path(folder)
    return _cached_sha256(path, model_files(path), "model")


def adapter_digest(folder: str | os.PathLike) -> str:
    """SHA-256 over a LoRA adapter's config and weights (cached)."""
    path = Path(folder)
    return _cached_sha256(path, adapter_files(path), "adapter")
