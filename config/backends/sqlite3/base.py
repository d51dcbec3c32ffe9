"""Django's SQLite backend, with writers that take the write lock in the order of a fair draw.

SQLite has one write lock per database. A writer that finds it taken (BEGIN IMMEDIATE) sleeps in SQLite's busy
handler in steps that grow to 100 ms, so whoever retries first when the lock frees wins: under ten busy reviewers a
request that has waited long sleeps longest and keeps losing to newcomers (round-trip p95 five to thirty times the
median). Here BEGIN IMMEDIATE retries every 0.5–2 ms instead, at random, until the busy timeout: each waiter has the
same chance, whichever process it runs in. Other statements keep SQLite's busy handler and timeout.
(A queue on a lock inside the process was fair too, but each hand-over waited for the next thread to be scheduled:
on a busy machine it halved throughput.)
"""

from __future__ import annotations

import random
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

RETRY_S = (0.0005, 0.002)


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self) -> None:
        if self.transaction_mode != "IMMEDIATE":  # DEFERRED: a read snapshot (annotate.db), which takes no lock
            super()._start_transaction_under_autocommit()
            return
        timeout = self.settings_dict["OPTIONS"].get("timeout", 5)
        deadline = time.monotonic() + timeout
        self.connection.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    super()._start_transaction_under_autocommit()
                    return
                except OperationalError as exc:
                    busy = getattr(exc.__cause__, "sqlite_errorname", "") == "SQLITE_BUSY"
                    if not busy or time.monotonic() >= deadline:
                        raise
                time.sleep(random.uniform(*RETRY_S))
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")
