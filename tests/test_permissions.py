"""Role × URL: every route of the app, asked by anonymous, a reviewer and a lead.

Routes declare their role through `annotate.permissions` (a `required_role` mark on page views, permission classes on
API views), so a new route without a gate fails here rather than shipping open.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotate.roles import LEAD, REVIEWER

PUBLIC = {"home", "login", "logout"}  # home shows the sign-in page to anonymous visitors
SAMPLE_KWARG = {
    "int": 999999,
    "id": 999999,
    "slug": "no-such-thing",
    "string": "no-such-thing",
    "path": "no/such/thing",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def _walk(patterns, namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from _walk(entry.url_patterns, f"{entry.namespace}:" if entry.namespace else namespace)
        elif isinstance(entry, URLPattern):
            yield entry, namespace


def _role(callback) -> str | None:
    if hasattr(callback, "required_role"):
        return callback.required_role
    roles = {
        getattr(cls, "required_role", None) for cls in getattr(getattr(callback, "cls", None), "permission_classes", [])
    }
    return LEAD if LEAD in roles else REVIEWER if REVIEWER in roles else None


def _routes():
    routes = []
    for pattern, namespace in _walk(get_resolver().url_patterns):
        if pattern.name in PUBLIC or pattern.callback.__module__.startswith("django.views.static"):
            continue
        converters = getattr(pattern.pattern, "converters", {})
        kwargs = {
            name: SAMPLE_KWARG[type(conv).__name__.replace("Converter", "").lower()]
            for name, conv in converters.items()
        }
        routes.append(pytest.param(namespace + (pattern.name or ""), kwargs, _role(pattern.callback), id=pattern.name))
    return routes


ROUTES = _routes()


def test_every_route_is_named_and_gated():
    ungated = [p.values[0] or "<unnamed>" for p in ROUTES if p.values[2] is None or not p.values[0]]
    assert ungated == [], f"routes without a name or a role gate: {ungated}"


@pytest.mark.parametrize(("name", "kwargs", "role"), ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_turned_away(client, name, kwargs, role, method):
    response = getattr(client, method)(reverse(name, kwargs=kwargs))
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("name", "kwargs", "role"), ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_reviewer_reaches_only_reviewer_routes(client_for, alice, name, kwargs, role, method):
    response = getattr(client_for(alice), method)(reverse(name, kwargs=kwargs))
    if role == LEAD:
        assert response.status_code == 403
    else:
        assert response.status_code not in (401, 403) and response.status_code < 500


@pytest.mark.parametrize(("name", "kwargs", "role"), ROUTES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_lead_reaches_every_route(client_for, lena, name, kwargs, role, method):
    response = getattr(client_for(lena), method)(reverse(name, kwargs=kwargs))
    assert response.status_code not in (401, 403) and response.status_code < 500


def test_home_shows_sign_in_to_anonymous_and_campaigns_to_reviewers(client, client_for, alice):
    assert b"Sign in to Verdict" in client.get("/").content
    assert b"Your campaigns" in client_for(alice).get("/").content


def test_user_without_role_is_refused(client_for, db):
    from tests.factories import UserFactory

    assert client_for(UserFactory(username="nobody")).get("/").status_code == 403


@pytest.fixture
def judged_pair(db):
    from tests.factories import JudgmentFactory

    judgment = JudgmentFactory()
    return judgment.comparison, judgment.reviewer


@pytest.mark.parametrize(
    ("name", "method"),
    [("quality_pair", "get"), ("quality_reviewer_flag", "post"), ("quality_reviewer_unflag", "post")],
)
def test_quality_pair_page_and_flags_are_for_leads_on_real_objects(client_for, alice, lena, judged_pair, name, method):
    comparison, reviewer = judged_pair
    slug = comparison.campaign.slug
    args = [slug, comparison.pk] if name == "quality_pair" else [slug, reviewer.pk]
    url = reverse(name, args=args)
    assert getattr(client_for(alice), method)(url).status_code == 403
    response = getattr(client_for(lena), method)(url)
    assert response.status_code == (200 if method == "get" else 302)
