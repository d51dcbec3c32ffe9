from __future__ import annotations

from django.http import HttpRequest

from annotate.roles import is_lead, is_reviewer


def roles(request: HttpRequest) -> dict[str, bool]:
    return {"user_is_lead": is_lead(request.user), "user_is_reviewer": is_reviewer(request.user)}
