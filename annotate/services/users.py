"""Creating people: a user with exactly one role and locale qualifications."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from annotate.models import Locale, Qualification
from annotate.roles import LEAD, REVIEWER

ROLES = (REVIEWER, LEAD)


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    locales: list[str],
    password: str | None = None,
    granted_by: AbstractBaseUser | None = None,
) -> AbstractBaseUser:
    """Create (or update) a user so that `role` is their only role, qualified for the given locales (added to any
    they had). API tokens are separate: `annotate.services.tokens.api_token_create`."""
    if role not in ROLES:
        raise ValueError(f"role: must be '{REVIEWER}' or '{LEAD}'")
    user, _ = get_user_model().objects.get_or_create(username=username)
    if password:
        user.set_password(password)
        user.save()
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    for code in locales:
        locale, _ = Locale.objects.get_or_create(code=code)
        Qualification.objects.get_or_create(reviewer=user, locale=locale, defaults={"granted_by": granted_by})
    return user
