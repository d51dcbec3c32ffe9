"""config.backends.sqlite3: writers of one process queue on a lock of their own, which every way out of a write
transaction gives back (else the next writer would wait out the busy timeout and fail)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from annotate.models import Locale

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend only"),
    pytest.mark.django_db(transaction=True),
]


def test_another_thread_writes_after_a_commit(write_elsewhere):
    with transaction.atomic():
        Locale.objects.create(code="en-US", name="English")
    assert write_elsewhere("fr-FR") == []


def test_another_thread_writes_after_a_rollback(write_elsewhere):
    with pytest.raises(RuntimeError), transaction.atomic():
        Locale.objects.create(code="en-US", name="English")
        raise RuntimeError("the transaction fails")
    assert write_elsewhere("fr-FR") == []
    assert list(Locale.objects.values_list("code", flat=True)) == ["fr-FR"]


def test_another_thread_writes_after_the_connection_closed_inside_a_transaction(write_elsewhere):
    with transaction.atomic():
        Locale.objects.create(code="en-US", name="English")
        connection.close()
    assert write_elsewhere("fr-FR") == []
    assert list(Locale.objects.values_list("code", flat=True)) == ["fr-FR"]

