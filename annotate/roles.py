"""Roles are Django groups; a lead may do everything a reviewer may."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

REVIEWER = "reviewer"
LEAD = "lead"


def _group_names(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_verdict_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._verdict_groups = cached
    return cached


def is_lead(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or LEAD in _group_names(user))


def is_reviewer(user: AbstractBaseUser | AnonymousUser) -> bool:
    return is_lead(user) or REVIEWER in _group_names(user)
