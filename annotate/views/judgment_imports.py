"""Lead pages for bringing data in besides comparisons: judgments made elsewhere, locales and qualifications."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from annotate.forms import JudgmentImportForm, LocaleForm, QualificationsForm
from annotate.models import Locale
from annotate.permissions import lead_required
from annotate.roles import REVIEWER
from annotate.services.importing import ImportRejected
from annotate.services.judgment_imports import import_judgments
from annotate.services.locales import locale_add, qualifications_set


@lead_required
def judgment_import_upload(request: HttpRequest) -> HttpResponse:
    form = JudgmentImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = import_judgments(campaign_slug=form.cleaned_data["campaign"].slug, lines=form.cleaned_data["file"])
        except ImportRejected as exc:
            errors = exc.errors
        else:
            sources = ", ".join(f"{n} {source}" for source, n in sorted(result.by_source.items())) or "none new"
            messages.success(
                request,
                f"Imported into {result.campaign.slug}: {result.judgments_created} judgments ({sources}), "
                f"{result.already_present} already present, {result.comparisons_created} new pairs.",
            )
            return redirect("judgment_import_upload")
    status = 400 if errors or form.errors else 200
    return render(request, "annotate/imports/judgments.html", {"form": form, "errors": errors}, status=status)


def _reviewers():
    return get_user_model().objects.filter(groups__name=REVIEWER).order_by("username").distinct()


@lead_required
def locale_list(request: HttpRequest) -> HttpResponse:
    """Locales, and who is qualified for which: add a locale, set a reviewer's locales."""
    form = LocaleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            locale = locale_add(code=form.cleaned_data["code"], name=form.cleaned_data["name"])
        except ValueError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, f"Added locale {locale.code}.")
            return redirect("locale_list")
    reviewers = _reviewers().prefetch_related("qualifications__locale")
    context = {"form": form, "locales": Locale.objects.all(), "reviewers": reviewers}
    return render(request, "annotate/imports/locales.html", context, status=400 if form.errors else 200)


@lead_required
def reviewer_qualifications(request: HttpRequest, reviewer_id: int) -> HttpResponse:
    reviewer = get_object_or_404(_reviewers(), pk=reviewer_id)
    held = Locale.objects.filter(qualifications__reviewer=reviewer)
    form = QualificationsForm(request.POST or None, initial={"locales": held})
    if request.method == "POST" and form.is_valid():
        granted, revoked = qualifications_set(
            reviewer=reviewer, locales=form.cleaned_data["locales"], granted_by=request.user
        )
        messages.success(request, f"{reviewer.username}: {granted} locale(s) granted, {revoked} revoked.")
        return redirect("locale_list")
    context = {"form": form, "reviewer": reviewer}
    return render(request, "annotate/imports/qualifications.html", context, status=400 if form.errors else 200)
