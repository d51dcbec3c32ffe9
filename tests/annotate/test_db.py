"""repeatable_read(): one view of the data for a long read, while other connections go on writing."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from annotate.db import repeatable_read
from annotate.models import Locale
from tests.factories import LocaleFactory


@pytest.mark.django_db(transaction=True)
def test_a_writer_commits_while_a_long_read_is_open_and_the_read_keeps_its_view(write_elsewhere):
    LocaleFactory(code="en-US")
    with repeatable_read():
        before = set(Locale.objects.values_list("code", flat=True))
        assert write_elsewhere("fr-FR") == []
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
