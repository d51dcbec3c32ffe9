"""One consistent view of the data for a long read (an export, a quality report) that never holds the write lock.

PostgreSQL: a REPEATABLE READ transaction; reviewers' writes go on beside it. SQLite: settings open every transaction
with BEGIN IMMEDIATE, which takes the database's single write lock; an export inside one would lock every reviewer
out for its whole length. Here the transaction begins DEFERRED instead and reads at once, which in WAL mode pins a
snapshot of the database: later reads see the same data while writers commit to the WAL beside it.
"""

from __future__ import annotations

from django.db import connection, transaction


class _RepeatableRead(transaction.Atomic):
    def __init__(self) -> None:
        super().__init__(using=None, savepoint=True, durable=False)

    def __enter__(self) -> None:
        if connection.vendor != "sqlite":
            super().__enter__()
            # Must be the transaction's first statement: the outermost block has just begun it.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return
        connection.ensure_connection()  # connecting sets transaction_mode from the settings: do it before changing it
        immediate, connection.transaction_mode = connection.transaction_mode, "DEFERRED"
        try:
            super().__enter__()
        finally:
            connection.transaction_mode = immediate
        try:
            self._start_snapshot()
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise

    @staticmethod
    def _start_snapshot() -> None:
        with connection.cursor() as cursor:
            # A write here would have to upgrade a read transaction, which fails at once ("database is locked", no
            # busy wait) whenever a reviewer committed since the snapshot: refuse every write, always, instead.
            cursor.execute("PRAGMA query_only = ON")
            # The first read starts the read transaction: the snapshot is the database as of this statement.
            cursor.execute("SELECT count(*) FROM sqlite_master")

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        try:
            super().__exit__(exc_type, exc_value, traceback)
        finally:
            if connection.vendor == "sqlite" and connection.connection is not None:
                # On the driver's connection: Django refuses queries on one whose transaction failed.
                connection.connection.execute("PRAGMA query_only = OFF")


def repeatable_read() -> transaction.Atomic:
    """A read-only transaction in which every read sees the same data, for reads too long to hold the write lock.

    Inside an enclosing transaction it is a plain savepoint: the outer transaction already fixes what is seen.
    """
    if connection.in_atomic_block:
        return transaction.atomic()
    return _RepeatableRead()
