"""403 / 404 / 500 in the app's layout, each saying what to do next; never a technical page with DEBUG off."""

from __future__ import annotations

import pytest
from django.urls import reverse


def _in_layout(body: str) -> bool:
    return 'class="topbar"' in body and "verdict.css" in body


def test_a_reviewer_on_a_lead_page_gets_the_styled_403(client_for, alice):
    response = client_for(alice).get(reverse("export_list"))
    body = response.content.decode()
    assert response.status_code == 403 and _in_layout(body)
    assert "isn't open to you" in body and 'href="/"' in body


def test_an_unknown_address_gets_the_styled_404(client_for, alice):
    response = client_for(alice).get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404 and _in_layout(body)
    assert "/no/such/page/" in body and "Check the address" in body
    assert "alice" in body  # rendered with the request: the signed-in top bar


@pytest.mark.urls("tests.config.error_urls")
def test_a_failing_view_gets_the_styled_500_with_debug_off(client_for, alice, settings):
    settings.DEBUG = False
    client = client_for(alice)
    client.raise_request_exception = False
    response = client.get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500 and _in_layout(body)
    assert "Something went wrong on our side" in body and "try again" in body
    assert "Traceback" not in body and "RuntimeError" not in body and "hunter2" not in body


def test_a_stale_form_gets_the_styled_csrf_page(client, alice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    response = strict.post(reverse("logout"))
    body = response.content.decode()
    assert response.status_code == 403 and _in_layout(body) and "This form has expired" in body


def test_an_unknown_api_address_answers_json_not_a_page(client_for, lena):
    response = client_for(lena).get("/api/v1/no-such-endpoint")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert "/api/v1/docs/" in response.json()["detail"]


@pytest.mark.urls("tests.config.error_urls")
def test_a_failing_api_view_answers_json_500_without_a_traceback(client_for, alice, settings):
    settings.DEBUG = False
    client = client_for(alice)
    client.raise_request_exception = False
    response = client.get("/api/boom/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    body = response.content.decode()
    assert "went wrong on our side" in response.json()["detail"]
    assert "Traceback" not in body and "RuntimeError" not in body and "hunter2" not in body
