"""Creating people: a user with a role, locale qualifications and an API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from annotate.models import Locale, Qualification
from annotate.roles import LEAD, REVIEWER


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    locales: list[str],
    password: str | None = None,
    granted_by: AbstractBaseUser | None = None,
) -> tuple[AbstractBaseUser, str]:
    """Create (or update) a user in a role, qualified for the given locales; returns the user and their API token."""
    if role not in (REVIEWER, LEAD):
        raise ValueError(f"role: must be '{REVIEWER}' or '{LEAD}'")
    user, _ = get_user_model().objects.get_or_create(username=username)
    if password:
        user.set_password(password)
        user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for code in locales:
        locale, _ = Locale.objects.get_or_create(code=code)
        Qualification.objects.get_or_create(reviewer=user, locale=locale, defaults={"granted_by": granted_by})
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key
