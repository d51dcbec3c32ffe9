"""The lead's quality dashboard: campaign overview, reviewer drill-down, one pair, flags, CSV of every table.

Thin shells: the numbers come typed from ``annotate.quality.report``, their shaping for the page from
``annotate.quality.shaping``.
"""

from __future__ import annotations

import csv
import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from annotate.models import Campaign, Comparison
from annotate.permissions import lead_required
from annotate.quality import shaping
from annotate.quality.drilldown import flagged_reviewer_ids, pair_detail, recent_judgments_with_majority
from annotate.quality.report import quality_report
from annotate.quality.reviewers import MIN_SHARED_PAIRS
from annotate.services.protection import campaign_prompts_protect
from annotate.services.reviewer_flags import FlagInvalid, reviewer_flag, reviewer_unflag
from annotate.sources import DEFAULT_FILTER, SOURCE_FILTERS, SourceFilterError, sources_for
from annotate.spreadsheet import spreadsheet_safe


def _campaign(slug: str) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("rubric"), slug=slug)


def _source(request: HttpRequest) -> str:
    """The `?source=human|ai|all` filter (human by default); SourceFilterError names the field."""
    source = request.GET.get("source") or DEFAULT_FILTER
    sources_for(source)
    return source


def _bad_request(error: Exception) -> HttpResponse:
    return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


@lead_required
@require_GET
def quality_index(request: HttpRequest) -> HttpResponse:
    try:
        source = _source(request)
    except SourceFilterError as error:
        return _bad_request(error)
    counted = Q(comparisons__judgments__source__in=sources_for(source))
    campaigns = Campaign.objects.annotate(judgments=Count("comparisons__judgments", filter=counted)).order_by("slug")
    context = {"campaigns": campaigns, "source": source, "sources": SOURCE_FILTERS}
    return render(request, "annotate/dashboard/index.html", context)


@lead_required
@require_GET
def quality_campaign(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = _campaign(slug)
    try:
        source = _source(request)
    except SourceFilterError as error:
        return _bad_request(error)
    report = quality_report(campaign=campaign, source=source)
    computing = report.computing
    if request.htmx and request.htmx.target == "quality-updating":
        # The "updating…" note polls here: once the fresh report is in, reload the page to show it.
        if report.updating:
            context = {"campaign": campaign, "computing": computing, "source": source}
            return render(request, "annotate/dashboard/_updating.html", context)
        return HttpResponseClientRefresh()
    sort = request.GET.get("sort", shaping.DEFAULT_SORT)
    sort = sort if sort in shaping.SORTABLE else shaping.DEFAULT_SORT
    descending = request.GET.get("dir", "desc") != "asc"
    context = {
        "campaign": campaign,
        "report": report,
        "figures": report.figures,
        "computing": computing,
        "updating": report.updating,
        "reviewers": shaping.sorted_reviewers(report.reviewer_rows, sort, descending),
        "headers": shaping.reviewer_headers(sort, descending, source),
        "min_shared": MIN_SHARED_PAIRS,
        "too_fast_seconds": settings.VERDICT_TOO_FAST_MS / 1000,
        "source": source,
        "sources": SOURCE_FILTERS,
        "judges": report.judges,
    }
    if request.htmx and request.htmx.target == "reviewer-table":
        return render(request, "annotate/dashboard/_reviewer_table.html", context)
    if not computing and not report.empty:
        context["heatmap"] = shaping.kappa_heatmap(report)
        context["chart"] = shaping.agreement_chart(report)
    return render(request, "annotate/dashboard/campaign.html", context)


@lead_required
@require_GET
def quality_reviewer(request: HttpRequest, slug: str, reviewer_id: int) -> HttpResponse:
    campaign = _campaign(slug)
    reviewer = get_object_or_404(get_user_model(), pk=reviewer_id)
    try:
        source = _source(request)
    except SourceFilterError as error:
        return _bad_request(error)
    report = quality_report(campaign=campaign, source=source, wait=True)
    row = report.reviewer(reviewer.pk)
    if row is None:
        raise Http404("This reviewer has no judgments in this campaign.")
    recent = recent_judgments_with_majority(campaign=campaign, reviewer_id=reviewer.pk, source=source)
    context = {
        "campaign": campaign,
        "reviewer": reviewer,
        "row": row,
        "flagged": row.flagged,
        "recent": recent,
        "kappas": shaping.co_reviewers(report, reviewer.pk),
        "source": source,
    }
    template = "annotate/dashboard/_recent.html" if request.htmx else "annotate/dashboard/reviewer.html"
    return render(request, template, context)


@lead_required
@require_GET
def quality_pair(request: HttpRequest, slug: str, comparison_id: int) -> HttpResponse:
    """One pair for a lead: the prompt, both answers with their models, and every judgment on it (all sources)."""
    campaign = _campaign(slug)
    try:
        detail = pair_detail(campaign=campaign, comparison_id=comparison_id)
    except Comparison.DoesNotExist:
        raise Http404("No such pair in this campaign.") from None
    source = request.GET.get("source") if request.GET.get("source") in SOURCE_FILTERS else DEFAULT_FILTER
    context = {"campaign": campaign, "pair": detail, "source": source}
    return render(request, "annotate/dashboard/pair.html", context)


def _flag_response(request: HttpRequest, campaign: Campaign, reviewer_id: int) -> HttpResponse:
    """htmx: the reviewer's flag control, redrawn; otherwise back to where the lead came from."""
    back = request.POST.get("next", "")
    back = back if back.startswith("/") and not back.startswith("//") else ""
    if not request.htmx:
        return redirect(back or reverse("quality_reviewer", args=[campaign.slug, reviewer_id]))
    context = {
        "campaign": campaign,
        "reviewer_id": reviewer_id,
        "flagged": reviewer_id in flagged_reviewer_ids(campaign=campaign),
        "next": back,
    }
    return render(request, "annotate/dashboard/_flag.html", context)


@lead_required
@require_POST
def quality_reviewer_flag(request: HttpRequest, slug: str, reviewer_id: int) -> HttpResponse:
    """Flag the reviewer in this campaign (`everywhere=1`: in every campaign), with an optional `reason`."""
    campaign = _campaign(slug)
    reviewer = get_object_or_404(get_user_model(), pk=reviewer_id)
    scope = None if request.POST.get("everywhere") else campaign
    try:
        reviewer_flag(reviewer=reviewer, campaign=scope, flagged_by=request.user, reason=request.POST.get("reason", ""))
    except FlagInvalid as error:
        return _bad_request(error)
    return _flag_response(request, campaign, reviewer.pk)


@lead_required
@require_POST
def quality_reviewer_unflag(request: HttpRequest, slug: str, reviewer_id: int) -> HttpResponse:
    """Lift every flag that marks the reviewer in this campaign (its own and any in-every-campaign flag)."""
    campaign = _campaign(slug)
    reviewer = get_object_or_404(get_user_model(), pk=reviewer_id)
    reviewer_unflag(reviewer=reviewer, campaign=campaign, cleared_by=request.user)
    return _flag_response(request, campaign, reviewer.pk)


def _csv_value(value):
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return spreadsheet_safe(value)


@lead_required
@require_GET
def quality_csv(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    campaign = _campaign(slug)
    try:
        source = _source(request)
    except SourceFilterError as error:
        return _bad_request(error)
    tables = shaping.csv_tables(quality_report(campaign=campaign, source=source, wait=True))
    if table not in tables:
        raise Http404(f"No table named {table!r}; tables: {', '.join(tables)}.")
    columns, rows = tables[table]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-{table}-{source}.csv"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row.get(column)) for column in columns])
    return response


@lead_required
@require_POST
def campaign_protect(request: HttpRequest, slug: str) -> HttpResponse:
    """Mark every prompt of the campaign protected: no later export trains on them, in any campaign."""
    campaign = _campaign(slug)
    added = campaign_prompts_protect(campaign=campaign, created_by=request.user)
    messages.success(request, f"{added} prompts newly protected ({campaign.prompts.count()} in the campaign).")
    return redirect("quality_campaign", slug=campaign.slug)
