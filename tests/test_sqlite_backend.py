"""config.backends.sqlite3: BEGIN IMMEDIATE retries on its own schedule, bounded by the busy timeout, and leaves
SQLite's busy timeout in place for every other statement."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, connections, transaction

from annotate.models import Locale
from config.backends.sqlite3 import base as sqlite_base

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend only"),
    pytest.mark.django_db(transaction=True),
]


def test_a_writer_gives_up_after_the_busy_timeout_and_writes_once_the_lock_is_free(monkeypatch, write_elsewhere):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)  # shared by every thread's connection
    with transaction.atomic():
        Locale.objects.create(code="en-US", name="English")  # this connection holds the write lock
        failures = write_elsewhere("fr-FR")
    assert [type(failure) for failure in failures] == [OperationalError]
    assert "database is locked" in str(failures[0])
    assert write_elsewhere("de-DE") == []
    assert sorted(Locale.objects.values_list("code", flat=True)) == ["de-DE", "en-US"]


def test_statements_outside_begin_keep_the_busy_timeout():
    with transaction.atomic():
        Locale.objects.create(code="en-US", name="English")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == round(connection.settings_dict["OPTIONS"]["timeout"] * 1000)


def test_a_writer_retries_until_the_lock_frees_then_takes_it(monkeypatch):
    retrying = threading.Event()

    def sleep(seconds: float) -> None:
        retrying.set()
        time.sleep(seconds)

    monkeypatch.setattr(sqlite_base, "time", SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with transaction.atomic():
                Locale.objects.create(code="fr-FR", name="French")
        except BaseException as exc:  # surfaced below
            failures.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    with transaction.atomic():
        Locale.objects.create(code="en-US", name="English")  # this connection holds the write lock
        writer.start()
        assert retrying.wait(timeout=30), "the writer never retried BEGIN IMMEDIATE"
    writer.join(timeout=60)
    assert failures == []
    assert sorted(Locale.objects.values_list("code", flat=True)) == ["en-US", "fr-FR"]
