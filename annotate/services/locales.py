"""Locales and reviewers' qualifications: BCP 47 checks, creating new tags, granting and revoking.

A tag is accepted when `langcodes` finds it valid and it is already in canonical form (so `en_us` or `EN-us` are
refused with the canonical spelling instead of becoming a second English).
"""

from __future__ import annotations

from collections.abc import Iterable

import langcodes
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotate.models import Locale, Qualification


def locale_problem(code: str) -> str | None:
    """Why `code` cannot be a locale tag, or None when it is a well-formed BCP 47 tag in canonical form."""
    if not isinstance(code, str) or "_" in code or not langcodes.tag_is_valid(code):
        return f"'{code}' is not a well-formed BCP 47 tag (e.g. en-US)"
    canonical = langcodes.standardize_tag(code)
    if canonical != code:
        return f"'{code}' is not in canonical form: write '{canonical}'"
    return None


def locales_resolve(codes: Iterable[str]) -> tuple[dict[str, Locale | None], dict[str, str]]:
    """Known locales by code (None for well-formed ones still to create) and a problem per malformed code."""
    codes = set(codes)
    found: dict[str, Locale | None] = {locale.code: locale for locale in Locale.objects.filter(code__in=codes)}
    problems: dict[str, str] = {}
    for code in codes - found.keys():
        problem = locale_problem(code)
        if problem:
            problems[code] = problem
        else:
            found[code] = None
    return found, problems


def locales_create_missing(found: dict[str, Locale | None]) -> list[str]:
    """Create the locales `locales_resolve` marked new (in place); returns their codes, sorted."""
    added = sorted(code for code, locale in found.items() if locale is None)
    for code in added:
        found[code] = Locale.objects.get_or_create(code=code)[0]
    return added


def locale_add(*, code: str, name: str = "") -> Locale:
    """Create a locale from a lead's form; ValueError names the problem."""
    code = code.strip()
    problem = locale_problem(code)
    if problem:
        raise ValueError(problem)
    locale, created = Locale.objects.get_or_create(code=code, defaults={"name": name.strip()})
    if not created:
        raise ValueError(f"'{code}' exists already")
    return locale


@transaction.atomic
def qualifications_set(
    *, reviewer: AbstractBaseUser, locales: Iterable[Locale], granted_by: AbstractBaseUser
) -> tuple[int, int]:
    """Make the reviewer qualified for exactly these locales; returns (granted, revoked)."""
    wanted = {locale.pk for locale in locales}
    held = set(Qualification.objects.filter(reviewer=reviewer).values_list("locale_id", flat=True))
    revoked, _ = Qualification.objects.filter(reviewer=reviewer, locale_id__in=held - wanted).delete()
    Qualification.objects.bulk_create(
        Qualification(reviewer=reviewer, locale_id=locale_id, granted_by=granted_by) for locale_id in wanted - held
    )
    return len(wanted - held), revoked
