"""Role gates for pages and API endpoints.

Each gate leaves a `required_role` mark on the view so that the generic permission test can walk every URL and know
what to expect without a hand-kept table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from annotate.roles import LEAD, REVIEWER, is_lead, is_reviewer

View = Callable[..., HttpResponse]


def _role_required(role: str, check: Callable) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_role = role
        return wrapper

    return decorator


reviewer_required = _role_required(REVIEWER, is_reviewer)
lead_required = _role_required(LEAD, is_lead)


class IsReviewer(BasePermission):
    required_role = REVIEWER

    def has_permission(self, request, view) -> bool:
        return is_reviewer(request.user)


class IsLead(BasePermission):
    required_role = LEAD

    def has_permission(self, request, view) -> bool:
        return is_lead(request.user)
