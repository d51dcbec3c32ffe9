from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from annotate.models import Qualification
from annotate.roles import is_lead, is_reviewer
from annotate.services.demo import seed_demo


def test_add_user_prints_a_token_that_authenticates(db, capsys, client):
    call_command("add_user", "rita", role="reviewer", locales="en-US,ja-JP")
    token = capsys.readouterr().out.strip()
    user = Token.objects.get(key=token).user
    assert is_reviewer(user) and not is_lead(user)
    assert set(Qualification.objects.filter(reviewer=user).values_list("locale__code", flat=True)) == {"en-US", "ja-JP"}
    assert client.get("/api/v1/campaigns/x/imports", HTTP_AUTHORIZATION=f"Token {token}").status_code == 403


def test_add_user_refuses_an_unknown_role(db):
    with pytest.raises(CommandError):
        call_command("add_user", "x", role="admin")


def test_demo_seed_is_idempotent_and_has_people_and_pairs(db):
    first = seed_demo()
    count = first.comparisons.count()
    seed_demo()
    assert count >= 60 and first.comparisons.count() == count
    assert first.locales.count() == 2 and first.prompts.count() == 30
