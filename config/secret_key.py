"""The secret key: from the environment, else generated once and kept in a file under the data folder.

Imported by settings, so it uses only the standard library and Django's exception type. A fresh install needs no
set-up, yet no two installs share a key and no key lives in the code.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "secret_key"


def secret_key(environ: Mapping[str, str], data_dir: Path) -> str:
    """`SECRET_KEY` from the environment (refused when empty), else the key kept in `data_dir/secret_key`."""
    if "SECRET_KEY" in environ:
        key = environ["SECRET_KEY"].strip()
        if not key:
            raise ImproperlyConfigured("SECRET_KEY is set but empty: set a long random value, or unset it.")
        return key
    return load_or_create_key_file(data_dir / KEY_FILE_NAME)


def load_or_create_key_file(path: Path) -> str:
    """Read the key file, creating it (mode 0600) on first use.

    Web and worker processes may start together: the key is written to a private temporary file and then linked
    into place, which fails if another process won, so every process ends up reading the same complete key.
    """
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it to have a new key generated, or set SECRET_KEY.")
    return key
