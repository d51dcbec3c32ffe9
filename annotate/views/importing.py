from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotate.forms import ImportForm
from annotate.permissions import lead_required
from annotate.services.importing import ImportRejected, import_comparisons


@lead_required
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            result = import_comparisons(
                campaign_slug=form.cleaned_data["campaign"],
                data=form.cleaned_data["file"].read(),
                pairs=form.cleaned_data["pairs"],
                default_locale=form.cleaned_data["locale"] or None,
            )
        except ImportRejected as exc:
            errors = exc.errors
        else:
            messages.success(
                request,
                f"Imported into {result.campaign.slug}: {result.prompts_created} prompts, "
                f"{result.candidates_created} candidates, {result.comparisons_created} comparisons."
                + (f" New locales: {', '.join(result.locales_added)}." if result.locales_added else ""),
            )
            return redirect("import_upload")
    status = 400 if errors or form.errors else 200
    return render(request, "annotate/imports/upload.html", {"form": form, "errors": errors}, status=status)
