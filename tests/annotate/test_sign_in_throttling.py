"""Sign-in throttling (django-axes): repeated failures for one username from one address lock that pair out."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def five_failures_allowed(settings):
    settings.AXES_FAILURE_LIMIT = 5


def _sign_in(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client, username: str, times: int, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        assert _sign_in(client, username, "wrong", address).status_code == 200  # the form again, with its error


def test_the_right_password_still_works_after_fewer_failures_than_the_limit(client, alice):
    _fail(client, "alice", 4)
    assert _sign_in(client, "alice", "pw").status_code == 302


def test_after_the_limit_even_the_right_password_is_refused_with_a_page_saying_when(client, alice):
    _fail(client, "alice", 4)
    locked = _sign_in(client, "alice", "wrong")
    assert locked.status_code == 429
    response = _sign_in(client, "alice", "pw")
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "Try again after" in page and "15 minutes" in page
    assert 'class="topbar"' in page  # the app's layout


def test_the_lockout_holds_one_username_from_one_address_only(client, alice, bob):
    _fail(client, "alice", 4)
    assert _sign_in(client, "alice", "wrong").status_code == 429
    assert _sign_in(client, "bob", "pw").status_code == 302  # another user, same address
    client.logout()
    assert _sign_in(client, "alice", "pw", address="10.0.0.2").status_code == 302  # same user, another address


def test_a_successful_sign_in_forgets_earlier_failures(client, alice):
    _fail(client, "alice", 4)
    assert _sign_in(client, "alice", "pw").status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
