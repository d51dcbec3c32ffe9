"""API tokens: hashed at rest, expiring, listed / created / rotated / revoked by their owner, over the API and a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from annotate.services.tokens import TokenNotFound, api_token_create, api_token_revoke, api_token_rotate

TOKENS = "/api/v1/tokens"


def _with_token(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_a_token_is_stored_as_a_digest_never_in_clear(alice):
    key = api_token_create(user=alice)
    row = AuthToken.objects.get(user=alice)
    assert key not in (row.digest, row.token_key) and row.token_key == key[:15] and len(row.digest) == 128


def test_a_token_expires_after_the_configured_lifetime(alice, settings):
    settings.REST_KNOX = {"TOKEN_TTL": timedelta(days=31), "AUTH_HEADER_PREFIX": "Token"}
    api_token_create(user=alice)
    expiry = AuthToken.objects.get(user=alice).expiry
    assert abs(expiry - (timezone.now() + timedelta(days=31))) < timedelta(minutes=1)


def test_an_expired_token_is_refused_without_being_deleted_on_the_request(alice):
    key = api_token_create(user=alice)
    AuthToken.objects.filter(user=alice).update(expiry=timezone.now() - timedelta(seconds=1))
    response = _with_token(key).get(TOKENS)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert AuthToken.objects.filter(user=alice).count() == 1  # GET wrote nothing
    assert "expired" not in _with_token(key[:15] + "0" * 49).get(TOKENS).json()["detail"]  # a guess learns nothing
    api_token_create(user=alice)  # creating a token clears the expired ones
    assert AuthToken.objects.filter(user=alice).count() == 1


def test_the_api_creates_a_token_whose_key_is_shown_once(alice):
    api = _with_token(api_token_create(user=alice))
    response = api.post(TOKENS)
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"prefix", "created", "expires", "expired", "token"}
    assert _with_token(created["token"]).get(TOKENS).status_code == 200
    listed = api.get(TOKENS).json()["tokens"]
    assert len(listed) == 2 and all("token" not in token for token in listed)
    assert created["prefix"] in {token["prefix"] for token in listed}


def test_revoking_a_token_stops_it_at_once(alice):
    key = api_token_create(user=alice)
    other = api_token_create(user=alice)
    assert _with_token(other).delete(f"{TOKENS}/{key[:15]}").status_code == 204
    assert _with_token(key).get(TOKENS).status_code == 401
    assert _with_token(other).get(TOKENS).status_code == 200


def test_rotating_replaces_the_key(alice):
    key = api_token_create(user=alice)
    response = _with_token(key).post(f"{TOKENS}/{key[:15]}/rotate")
    assert response.status_code == 201
    new_key = response.json()["token"]
    assert _with_token(key).get(TOKENS).status_code == 401
    assert [t["prefix"] for t in _with_token(new_key).get(TOKENS).json()["tokens"]] == [new_key[:15]]


def test_nobody_can_see_revoke_or_rotate_another_users_token(alice, bob):
    alices = api_token_create(user=alice)
    bob_api = _with_token(api_token_create(user=bob))
    assert alices[:15] not in str(bob_api.get(TOKENS).json())
    assert bob_api.delete(f"{TOKENS}/{alices[:15]}").status_code == 404
    assert bob_api.post(f"{TOKENS}/{alices[:15]}/rotate").status_code == 404
    assert _with_token(alices).get(TOKENS).status_code == 200
    with pytest.raises(TokenNotFound):
        api_token_revoke(user=bob, prefix=alices[:15])
    with pytest.raises(TokenNotFound):
        api_token_rotate(user=bob, prefix=alices[:15])


def test_a_user_without_a_role_gets_no_token_endpoints(db):
    from tests.factories import UserFactory

    assert _with_token(api_token_create(user=UserFactory(username="nobody"))).get(TOKENS).status_code == 403


def test_the_tokens_page_lists_creates_shows_the_key_once_and_revokes(client_for, alice):
    client = client_for(alice)
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and b"You have no tokens yet" in page.content
    created = client.post("/account/tokens/new")
    key = created.context["new_key"]
    assert created.status_code == 201 and key.encode() in created.content
    listing = client.get("/account/tokens/")
    assert key[:15].encode() in listing.content and key.encode() not in listing.content
    revoked = client.post(f"/account/tokens/{key[:15]}/revoke", follow=True)
    assert b"revoked" in revoked.content and not AuthToken.objects.filter(user=alice).exists()


def test_the_tokens_page_rotates(client_for, alice):
    key = api_token_create(user=alice)
    response = client_for(alice).post(f"/account/tokens/{key[:15]}/rotate")
    new_key = response.context["new_key"]
    assert response.status_code == 201 and new_key != key
    assert list(AuthToken.objects.filter(user=alice).values_list("token_key", flat=True)) == [new_key[:15]]


def test_the_tokens_page_refuses_another_users_prefix(client_for, alice, bob):
    key = api_token_create(user=bob)
    assert client_for(alice).post(f"/account/tokens/{key[:15]}/revoke").status_code == 404
    assert AuthToken.objects.filter(user=bob).exists()
