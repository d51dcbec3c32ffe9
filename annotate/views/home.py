from __future__ import annotations

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from annotate import review_selectors
from annotate.roles import is_reviewer
from annotate.services.assignment import has_work


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous visitors get the sign-in page right here, so `/` always answers with something useful."""
    if not request.user.is_authenticated:
        return LoginView.as_view(template_name="registration/login.html")(request)
    if not is_reviewer(request.user):
        return render(request, "annotate/home/no_role.html", status=403)
    campaigns = [
        (progress, has_work(reviewer=request.user, campaign=progress.campaign))
        for progress in review_selectors.campaigns_with_progress(reviewer=request.user)
    ]
    context = {"campaigns": campaigns, "today": review_selectors.judgments_today(reviewer=request.user)}
    return render(request, "annotate/home/home.html", context)
