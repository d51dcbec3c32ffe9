"""Ids in paths and query strings: 1 … 2**63 − 1, checked before any query (past it SQLite overflows: a 500)."""

from __future__ import annotations

import pytest
from django import forms
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.ids import MAX_ID, IdConverter, IdField, InvalidId, parse_ids

HUGE = "9" * 400


def _patterns(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            yield entry


def test_no_route_takes_an_unbounded_integer():
    unbounded = [
        str(pattern.pattern)
        for pattern in _patterns(get_resolver().url_patterns)
        if any(type(conv).__name__ == "IntConverter" for conv in getattr(pattern.pattern, "converters", {}).values())
        and not pattern.callback.__module__.startswith("django.contrib.admin")
    ]
    assert unbounded == [], f"use <id:…> instead of <int:…> in {unbounded}"


@pytest.mark.parametrize("text", ["1", "42", str(MAX_ID), "007"])
def test_the_converter_takes_every_id_a_database_can_hold(text):
    assert IdConverter().to_python(text) == int(text)


@pytest.mark.parametrize("text", ["0", str(MAX_ID + 1), "9" * 19])
def test_the_converter_refuses_numbers_past_the_bound(text):
    with pytest.raises(ValueError):
        IdConverter().to_python(text)


@pytest.mark.parametrize(
    "path",
    [
        f"/exports/{HUGE}/",
        f"/exports/{MAX_ID + 1}/",
        f"/exports/jobs/{HUGE}/",
        f"/review/some-campaign/{HUGE}/submit",
        f"/escalations/{HUGE}/resolve",
        f"/training/runs/{HUGE}/",
        f"/training/runs/{HUGE}/metrics",
        f"/api/v1/assignments/{HUGE}/judgment",
        f"/api/v1/snapshots/{HUGE}",
        f"/api/v1/runs/{HUGE}",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_huge_id_in_a_path_is_not_found(client_for, lena, path, method):
    assert getattr(client_for(lena), method)(path).status_code == 404


def test_a_route_with_an_id_still_reverses():
    assert reverse("export_detail", args=[MAX_ID]) == f"/exports/{MAX_ID}/"


class _Query(forms.Form):
    run = IdField(required=False)


@pytest.mark.parametrize("text", ["0", "-1", str(MAX_ID + 1), HUGE, "1e400", "abc", "1.5"])
def test_the_form_field_names_a_value_that_is_no_id(text):
    form = _Query({"run": text})
    assert not form.is_valid() and "run" in form.errors


def test_the_form_field_takes_an_id_or_nothing():
    assert _Query({"run": str(MAX_ID)}).is_valid() and _Query({}).is_valid()


@pytest.mark.parametrize(
    ("value", "ids"),
    [("3,5", [3, 5]), (["3", "5"], [3, 5]), (["3,5", " 8 ", "3"], [3, 5, 8]), ("", []), (f"{MAX_ID}", [MAX_ID])],
)
def test_id_lists_come_as_comma_lists_or_repeated_parameters(value, ids):
    assert parse_ids(value) == ids


@pytest.mark.parametrize("value", [HUGE, f"1,{HUGE}", "0", "-1", "1e400", "abc", "٣"])
def test_an_id_list_names_its_first_bad_part_cut_short(value):
    with pytest.raises(InvalidId) as refused:
        parse_ids(value)
    assert len(refused.value.text) <= 40 and refused.value.text in value
