"""Reads shared by pages and the API."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from annotate.models import Campaign


def campaigns_for_reviewer(*, reviewer: AbstractBaseUser) -> QuerySet[Campaign]:
    """Active campaigns with at least one locale the reviewer is qualified for."""
    return (
        Campaign.objects.filter(status=Campaign.Status.ACTIVE, locales__qualifications__reviewer=reviewer)
        .select_related("rubric")
        .distinct()
        .order_by("slug")
    )
