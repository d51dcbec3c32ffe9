from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.secret_key import secret_key

ROOT = Path(__file__).resolve().parents[2]


def test_without_secret_key_one_is_generated_once_and_kept_private(tmp_path):
    key = secret_key({}, tmp_path)
    assert len(key) >= 50 and key == secret_key({}, tmp_path)  # the second start reads the same key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    other_install = tmp_path / "other"
    other_install.mkdir()
    assert secret_key({}, other_install) != key  # never a built-in key


def test_the_environment_wins_and_an_empty_key_is_refused(tmp_path):
    assert secret_key({"SECRET_KEY": "from-the-environment"}, tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is set but empty"):
        secret_key({"SECRET_KEY": "  "}, tmp_path)


def test_settings_refuse_to_start_with_an_empty_secret_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "", "VERDICT_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "SECRET_KEY is set but empty" in result.stderr
