"""GET never writes: every page and endpoint a GET reaches, asked by a lead who also reviews, runs without a single
INSERT, UPDATE, DELETE or row lock (a lock is how a write starts: the review page used to lease a pair on GET)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.annotate.review_helpers import campaign_with_pairs

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
SKIP = {"logout", "login"}  # Django's own views


def _routes_without_arguments(patterns, namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _routes_without_arguments(entry.url_patterns, f"{entry.namespace}:" if entry.namespace else "")
        elif isinstance(entry, URLPattern) and not getattr(entry.pattern, "converters", {}) and entry.name:
            if entry.name not in SKIP:
                yield namespace + entry.name


def _writes(queries) -> list[str]:
    return [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().upper().startswith(WRITES) or "FOR UPDATE" in query["sql"].upper()
    ]


@pytest.fixture
def lead_reviewing(client_for, lena):
    """Leads review too (roles.is_reviewer), so every page answers lena."""
    return client_for(lena)


@pytest.mark.parametrize("name", sorted(_routes_without_arguments(get_resolver().url_patterns)))
def test_a_get_without_arguments_writes_nothing(lead_reviewing, name):
    campaign_with_pairs(2)
    with CaptureQueriesContext(connection) as queries:
        response = lead_reviewing.get(reverse(name), HTTP_HX_REQUEST="true")
        lead_reviewing.get(reverse(name))
    assert response.status_code < 500
    assert _writes(queries.captured_queries) == []


@pytest.mark.parametrize("name", ["review_campaign", "quality_campaign"])
def test_a_campaign_page_writes_nothing(lead_reviewing, name):
    campaign, _ = campaign_with_pairs(3)
    with CaptureQueriesContext(connection) as queries:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            assert lead_reviewing.get(reverse(name, args=[campaign.slug]), **headers).status_code == 200
    assert _writes(queries.captured_queries) == []


def test_the_quality_drill_downs_write_nothing(lead_reviewing):
    from tests.factories import JudgmentFactory

    judgment = JudgmentFactory()
    slug = judgment.comparison.campaign.slug
    urls = [
        reverse("quality_reviewer", args=[slug, judgment.reviewer_id]),
        reverse("quality_pair", args=[slug, judgment.comparison_id]),
    ]
    with CaptureQueriesContext(connection) as queries:
        for url in urls:
            for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
                assert lead_reviewing.get(url, **headers).status_code == 200
    assert _writes(queries.captured_queries) == []
