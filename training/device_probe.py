"""Print this machine's training device as JSON: `python -m training.device_probe`.

A training worker runs it in a child process: asking torch about CUDA initialises it, and a prefork worker whose
parent has initialised CUDA cannot use it in the children it forks.
"""

from __future__ import annotations

import json
import os
import platform


def describe_device() -> dict[str, object]:
    """{"device": "cuda" | "cpu", "device_name": ..., "memory_bytes": GPU memory, or RAM for a CPU}."""
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        return {"device": "cuda", "device_name": props.name, "memory_bytes": props.total_memory}
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    name = f"CPU, {os.cpu_count()} cores ({platform.machine()})"
    return {"device": "cpu", "device_name": name, "memory_bytes": memory}


if __name__ == "__main__":
    print(json.dumps(describe_device()))
