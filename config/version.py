"""Which code made an artefact: recorded in export manifests and training lineage."""

from __future__ import annotations

import subprocess
from functools import cache

from django.conf import settings


@cache
def code_version() -> str:
    """`git describe` of the running checkout (read once per process), or "unknown" outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--tags", "--dirty"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"
