"""repeatable_read(): one view of the data for a long read, while other connections go on writing."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from annotate.db import repeatable_read
from annotate.models import Locale
from tests.factories import LocaleFactory


def _write_from_another_connection(code: str) -> list[BaseException]:
    """Create a locale in a transaction of its own on another thread (so another connection); returns its failures."""
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with transaction.atomic():
                Locale.objects.create(code=code, name=code)
        except BaseException as exc:  # surfaced by the caller
            failures.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=60)
    assert not writer.is_alive()
    return failures


@pytest.mark.django_db(transaction=True)
def test_a_writer_commits_while_a_long_read_is_open_and_the_read_keeps_its_view():
    LocaleFactory(code="en-US")
    with repeatable_read():
        before = set(Locale.objects.values_list("code", flat=True))
        assert _write_from_another_connection("fr-FR") == []
        during = set(Locale.objects.values_list("code", flat=True))
    after = set(Locale.objects.values_list("code", flat=True))
    assert before == during == {"en-US"}
    assert after == {"en-US", "fr-FR"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: a write would need the lock it must not take")
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_write_inside_a_long_read_is_refused_and_the_connection_writes_again_after():
    with repeatable_read(), pytest.raises(DatabaseError, match="readonly"):
        Locale.objects.create(code="fr-FR", name="French")
    Locale.objects.create(code="de-DE", name="German")
    assert list(Locale.objects.values_list("code", flat=True)) == ["de-DE"]


@pytest.mark.django_db
def test_inside_an_outer_transaction_it_is_a_savepoint_of_it():
    with transaction.atomic():
        with repeatable_read():
            LocaleFactory(code="en-US")  # the outer transaction already holds the write lock: writes are fine
        assert Locale.objects.filter(code="en-US").exists()
