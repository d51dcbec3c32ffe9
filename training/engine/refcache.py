"""Reference log-probs computed once and cached on disk.

The cache key is the SHA-256 of the base model's files, the tokenized data (which fixes the text, the tokenizer and
the truncation settings) and the dtype, so a repeated run with the same inputs skips every reference pass.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from training.engine.data import TokenizedPair, collate, sequential_batches
from training.engine.model import sequence_logps


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "verdict-engine" / "ref_logps"


def cache_key(model_sha: str, items: list[TokenizedPair], dtype: torch.dtype, share_prompt: bool = False) -> str:
    digest = hashlib.sha256(f"{model_sha}|{dtype}|{share_prompt}|".encode())
    for item in items:
        for row in (item.chosen_ids, item.chosen_mask, item.rejected_ids, item.rejected_mask):
            digest.update(",".join(map(str, row)).encode() + b";")
        digest.update(b"\n")
    return digest.hexdigest()


@torch.no_grad()
def reference_logps(
    model, items: list[TokenizedPair], *, batch_size: int, pad_token_id: int, share_prompt: bool = False
) -> torch.Tensor:
    """Summed completion log-probs of every item under the reference (adapter disabled): shape (n, 2)."""
    out = torch.zeros(len(items), 2)
    was_training = model.training
    model.eval()
    try:
        with model.disable_adapter():
            for positions in sequential_batches(items, batch_size):
                batch = collate([items[i] for i in positions], pad_token_id)
                logps, _, _ = sequence_logps(model, batch, share_prompt=share_prompt)
                half = len(positions)
                out[positions, 0] = logps[:half].float().cpu()
                out[positions, 1] = logps[half:].float().cpu()
    finally:
        model.train(was_training)
    return out


def attach_reference_logps(
    model,
    items: list[TokenizedPair],
    *,
    model_sha: str,
    cache_dir: str | os.PathLike | None,
    batch_size: int,
    pad_token_id: int,
    share_prompt: bool = False,
) -> bool:
    """Fill `ref_chosen_logp` / `ref_rejected_logp` on every item; returns True when they came from the cache."""
    if not items:
        return False
    dtype = next(model.parameters()).dtype
    directory = Path(cache_dir) if cache_dir else default_cache_dir()
    path = directory / f"{cache_key(model_sha, items, dtype, share_prompt)}.pt"
    hit = path.is_file()
    if hit:
        values = torch.load(path, map_location="cpu", weights_only=True)
    else:
        values = reference_logps(
            model, items, batch_size=batch_size, pad_token_id=pad_token_id, share_prompt=share_prompt
        )
        directory.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        torch.save(values, partial)
        os.replace(partial, path)  # atomic: a concurrent run never reads a half-written file
    for item, (chosen, rejected) in zip(items, values.tolist(), strict=True):
        item.ref_chosen_logp, item.ref_rejected_logp = chosen, rejected
    return hit
