"""Django's SQLite backend, with write transactions queued fairly inside a process.

SQLite has one write lock per database. A writer that finds it taken sleeps in SQLite's busy handler, in steps that
grow to 100 ms, and whoever retries first when the lock frees wins: under ten busy reviewers, a request that waited
long sleeps longest and keeps losing to newcomers (p95 five times the median). Threads of one process (runserver,
gunicorn threads) therefore queue on a lock of their own before BEGIN IMMEDIATE and are woken the moment it is
released; other processes (Celery workers) still meet at SQLite's lock and its busy timeout. Waiting on the queue
is bounded by the same timeout, and fails the same way ("database is locked").
"""

from __future__ import annotations

import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Per database file: one process may open several.
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(name: str) -> threading.Lock:
    with _write_locks_guard:
        return _write_locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _held_write_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode != "IMMEDIATE":  # DEFERRED: a read snapshot (annotate.db), which never writes
            super()._start_transaction_under_autocommit()
            return
        lock = _write_lock(str(self.settings_dict["NAME"]))
        if not lock.acquire(timeout=self.settings_dict["OPTIONS"].get("timeout", 5)):
            raise OperationalError("database is locked")
        self._held_write_lock = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        lock, self._held_write_lock = self._held_write_lock, None
        if lock is not None:
            lock.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()
