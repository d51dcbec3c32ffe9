"""Database ids as pages read them from a path or a query string: whole numbers from 1 to 2**63 − 1.

That range is what a 64-bit primary key holds on PostgreSQL and SQLite alike. A longer number must never reach a
query: SQLite raises OverflowError and PostgreSQL "out of range", both a 500. So every boundary checks the bound
first: the `id` path converter (registered in config/urls.py; a number out of range does not match, a 404) and the
form fields below (a form error, shown on the page or answered as a 400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

MAX_ID = 2**63 - 1


class IdConverter:
    """`<id:name>` in a route: like `<int:…>`, but only ids a database can hold (1 … 2**63 − 1)."""

    regex = "[0-9]{1,19}"  # 2**63 − 1 has 19 digits; longer numbers do not even reach to_python

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"{value} is not a database id")  # Django reads ValueError as "no match": a 404
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class IdField(forms.IntegerField):
    """One id typed into a form or given in a query string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class ModelIdsField(forms.ModelMultipleChoiceField):
    """Several rows of one model by id: repeated parameters (`?campaigns=1&campaigns=2`, as checkboxes send them)
    or a comma list (`?campaigns=1,2`). Each value is checked against the id bounds before the database sees it."""

    def clean(self, value: Any) -> QuerySet:
        if value in self.empty_values:
            return super().clean(value)
        try:
            ids = parse_ids(value)
        except InvalidId as bad:
            raise ValidationError(
                self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": bad.text}
            ) from None
        return super().clean([str(pk) for pk in ids])


class InvalidId(ValueError):
    def __init__(self, text: str) -> None:
        self.text = text[:40]  # quoted back in messages: a 400-digit value is cut short
        super().__init__(f"“{self.text}” is not an id")


def parse_ids(value: str | Iterable[str]) -> list[int]:
    """Ids from a comma list or repeated parameters (`"3,5"`, `["3", "5"]`, `["3,5", "8"]`), in order without
    repeats; InvalidId for the first part that is not a whole number from 1 to MAX_ID."""
    items = [value] if isinstance(value, str) else value
    ids: list[int] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if not (part.isascii() and part.isdigit() and len(part) <= 19 and 1 <= int(part) <= MAX_ID):
                raise InvalidId(part)
            if int(part) not in ids:
                ids.append(int(part))
    return ids


def read_query(request: HttpRequest, form_class: type[forms.Form]) -> dict[str, Any] | None:
    """The query string read through `form_class` (ids as `IdField`s), or None when a value is bad: each problem is
    then added as a `field: message` error message, which the page shows when the view renders it with a 400."""
    form = form_class(request.GET)
    if form.is_valid():
        return form.cleaned_data
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{field}: {error}")
    return None
