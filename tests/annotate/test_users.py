from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from annotate.models import Qualification
from annotate.roles import is_lead, is_reviewer
from annotate.services.demo import seed_demo
from tests.factories import UserFactory


def test_add_user_prints_a_token_alone_on_the_last_line_that_authenticates(db, capsys, client):
    call_command("add_user", "rita", role="reviewer", locales="en-US,ja-JP")
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.isalnum() and len(token) == 64
    response = client.get("/api/v1/tokens", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200 and response.json()["tokens"][0]["prefix"] == token[:15]
    # a reviewer's token is refused where a lead is needed
    assert client.get("/api/v1/campaigns/x/imports", HTTP_AUTHORIZATION=f"Token {token}").status_code == 403


def test_add_user_sets_the_role_and_locales(db, capsys, django_user_model):
    call_command("add_user", "rita", role="reviewer", locales="en-US,ja-JP")
    user = django_user_model.objects.get(username="rita")
    assert is_reviewer(user) and not is_lead(user)
    assert set(Qualification.objects.filter(reviewer=user).values_list("locale__code", flat=True)) == {"en-US", "ja-JP"}


def test_add_user_with_a_new_role_replaces_the_old_one(db, capsys, django_user_model):
    UserFactory(username="lena", role="lead")
    call_command("add_user", "lena", role="reviewer")
    user = django_user_model.objects.get(username="lena")
    assert list(user.groups.values_list("name", flat=True)) == ["reviewer"]
    assert is_reviewer(user) and not is_lead(user)


def test_add_user_refuses_an_unknown_role(db):
    with pytest.raises(CommandError):
        call_command("add_user", "x", role="admin")


def test_demo_seed_is_idempotent_and_has_people_and_pairs(db):
    first = seed_demo()
    count = first.comparisons.count()
    seed_demo()
    assert count >= 60 and first.comparisons.count() == count
    assert first.locales.count() == 2 and first.prompts.count() == 30


def test_add_user_refuses_a_weak_password(db, django_user_model):
    with pytest.raises(CommandError, match="password: This password is too short"):
        call_command("add_user", "rita", role="reviewer", password="pw")
    assert not django_user_model.objects.filter(username="rita").exists()


def test_add_user_sets_a_strong_password(db, capsys, django_user_model):
    call_command("add_user", "rita", role="reviewer", password="a-long-enough-passphrase")
    assert django_user_model.objects.get(username="rita").check_password("a-long-enough-passphrase")


def test_add_user_refuses_a_password_like_the_username(db):
    with pytest.raises(CommandError, match="too similar to the username"):
        call_command("add_user", "margarethe", role="reviewer", password="margarethe1")
