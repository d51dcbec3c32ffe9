"""The lead's quality dashboard: campaign overview, reviewer drill-down, CSV of every table."""

from __future__ import annotations

import csv
import math

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from annotate import quality
from annotate.models import Campaign
from annotate.permissions import lead_required
from annotate.quality_metrics import (
    CRITERION_COLUMNS,
    HEADLINE_COLUMNS,
    LENGTH_COLUMNS,
    MODEL_COLUMNS,
    SLICE_COLUMNS,
)
from annotate.quality_reviewers import KAPPA_COLUMNS, MIN_SHARED_PAIRS, REVIEWER_COLUMNS
from annotate.services.protection import campaign_prompts_protect
from annotate.sources import DEFAULT_FILTER, SOURCE_FILTERS, SourceFilterError, sources_for
from annotate.spreadsheet import spreadsheet_safe

HEATMAP_REVIEWERS = 25  # the heatmap shows the reviewers with the most judgments; the CSV has every pair
REVIEWER_HEADERS = (
    ("name", "Reviewer"),
    ("judgments", "Judgments"),
    ("median_seconds", "Median time"),
    ("majority_agreement", "Agrees with majority"),
    ("gold_accuracy", "Gold accuracy"),
    ("left_share", "Left picks"),
    ("left_p_value", "p (left)"),
    ("tie_share", "Ties"),
    ("both_bad_share", "Both bad"),
    ("escalate_share", "Escalated"),
)
SORTABLE = {column for column, _ in REVIEWER_HEADERS}
OUTLIER_FLAGS = ("too_fast", "low_agreement", "position_bias")


def _reviewer_rows(report: dict, flagged: set[int]) -> list[dict]:
    names = report.get("names", {})
    return [
        {
            **row,
            "name": names.get(row["reviewer"], f"#{row['reviewer']}"),
            "flagged": row["reviewer"] in flagged,
            "outlier": any(row[flag] for flag in OUTLIER_FLAGS),
        }
        for row in report.get("reviewer_rows", [])
    ]


def _sorted(rows: list[dict], key: str, descending: bool) -> list[dict]:
    """Sort by one column; missing values (nan, None) always go last."""

    def missing(value) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value))

    present = [row for row in rows if not missing(row[key])]
    absent = [row for row in rows if missing(row[key])]
    return sorted(present, key=lambda row: row[key], reverse=descending) + absent


def _headers(sort: str, descending: bool, source: str) -> list[dict]:
    """Reviewer table headers: clicking the sorted column flips its direction, another column sorts descending."""
    headers = []
    for column, label in REVIEWER_HEADERS:
        current = column == sort
        direction = "asc" if current and descending else "desc"
        headers.append(
            {
                "label": label,
                "url": f"?source={source}&sort={column}&dir={direction}",
                "arrow": (" ▾" if descending else " ▴") if current else "",
                "aria": ("descending" if descending else "ascending") if current else "",
            }
        )
    return headers


def _heatmap(report: dict) -> dict:
    """Reviewer × reviewer kappa for the busiest reviewers that have at least one pair, as rows of cells."""
    kappas = {(pair["reviewer_a"], pair["reviewer_b"]): pair for pair in report.get("kappas", [])}
    paired = {reviewer for pair in kappas for reviewer in pair}
    rows = [row for row in report.get("reviewer_rows", []) if row["reviewer"] in paired]
    chosen = sorted(rows, key=lambda row: (-row["judgments"], row["reviewer"]))[:HEATMAP_REVIEWERS]
    ids = sorted(row["reviewer"] for row in chosen)
    names = report.get("names", {})
    grid = []
    for a in ids:
        cells = []
        for b in ids:
            pair = kappas.get((min(a, b), max(a, b)))
            kappa = None if a == b or pair is None or math.isnan(pair["kappa"]) else pair["kappa"]
            # Hue runs red (kappa <= 0) to green (kappa = 1).
            hue = None if kappa is None else round(120 * min(max(kappa, 0.0), 1.0))
            shared = pair["shared"] if pair else 0
            cells.append({"kappa": kappa, "shared": shared, "hue": hue, "other_name": names.get(b, f"#{b}")})
        grid.append({"reviewer": a, "name": names.get(a, f"#{a}"), "cells": cells})
    return {"reviewers": [names.get(i, f"#{i}") for i in ids], "rows": grid}


def _campaign(slug: str) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("rubric"), slug=slug)


def _source(request: HttpRequest) -> str:
    """The `?source=human|ai|all` filter (human by default); SourceFilterError names the field."""
    source = request.GET.get("source") or DEFAULT_FILTER
    sources_for(source)
    return source


def _bad_source(error: SourceFilterError) -> HttpResponse:
    return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


@lead_required
@require_GET
def quality_index(request: HttpRequest) -> HttpResponse:
    try:
        source = _source(request)
    except SourceFilterError as error:
        return _bad_source(error)
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
        return _bad_source(error)
    state = quality.campaign_report_state(campaign=campaign, source=source)
    if request.htmx and request.htmx.target == "quality-updating":
        # The "updating…" note polls here: once the fresh report is in, reload the page to show it.
        if state.updating:
            context = {"campaign": campaign, "computing": state.report is None, "source": source}
            return render(request, "annotate/dashboard/_updating.html", context)
        return HttpResponseClientRefresh()
    if state.report is None:  # a big campaign's first report: a worker computes it, the page polls
        context = {"campaign": campaign, "computing": True, "source": source, "sources": SOURCE_FILTERS}
        return render(request, "annotate/dashboard/campaign.html", context)
    report = state.report
    sort = request.GET.get("sort", "judgments")
    sort = sort if sort in SORTABLE else "judgments"
    descending = request.GET.get("dir", "desc") != "asc"
    flagged = quality.flagged_reviewer_ids(campaign=campaign) if not report["empty"] else set()
    context = {
        "campaign": campaign,
        "report": report,
        "reviewers": _sorted(_reviewer_rows(report, flagged), sort, descending),
        "headers": _headers(sort, descending, source),
        "min_shared": MIN_SHARED_PAIRS,
        "updating": state.updating,
        "source": source,
        "sources": SOURCE_FILTERS,
        "judges": [
            {**row, "name": report.get("names", {}).get(row["judge"], f"#{row['judge']}")}
            for row in report.get("judges", [])
        ],
    }
    if request.htmx and request.htmx.target == "reviewer-table":
        return render(request, "annotate/dashboard/_reviewer_table.html", context)
    if not report["empty"]:
        context["heatmap"] = _heatmap(report)
        context["chart"] = {
            "labels": [row["slice"] for row in report["over_time"]],
            "alpha": [_finite(row["alpha"]) for row in report["over_time"]],
            "percent": [_finite(row["percent_agreement"]) for row in report["over_time"]],
            "judgments": [row["judgments"] for row in report["over_time"]],
        }
    return render(request, "annotate/dashboard/campaign.html", context)


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


@lead_required
@require_GET
def quality_reviewer(request: HttpRequest, slug: str, reviewer_id: int) -> HttpResponse:
    campaign = _campaign(slug)
    reviewer = get_object_or_404(get_user_model(), pk=reviewer_id)
    try:
        source = _source(request)
    except SourceFilterError as error:
        return _bad_source(error)
    report = quality.campaign_report(campaign=campaign, source=source)
    flagged = quality.flagged_reviewer_ids(campaign=campaign)
    rows = [row for row in _reviewer_rows(report, flagged) if row["reviewer"] == reviewer.pk]
    if not rows:
        raise Http404("This reviewer has no judgments in this campaign.")
    recent = quality.recent_judgments_with_majority(campaign=campaign, reviewer_id=reviewer.pk, source=source)
    kappas = [
        {
            "other": pair["reviewer_b"] if pair["reviewer_a"] == reviewer.pk else pair["reviewer_a"],
            "shared": pair["shared"],
            "kappa": pair["kappa"],
        }
        for pair in report.get("kappas", [])
        if reviewer.pk in (pair["reviewer_a"], pair["reviewer_b"])
    ]
    names = report.get("names", {})
    for pair in kappas:
        pair["name"] = names.get(pair["other"], f"#{pair['other']}")
    context = {
        "campaign": campaign,
        "reviewer": reviewer,
        "row": rows[0],
        "recent": recent,
        "kappas": kappas,
        "source": source,
    }
    template = "annotate/dashboard/_recent.html" if request.htmx else "annotate/dashboard/reviewer.html"
    return render(request, template, context)


def _csv_tables(report: dict, flagged: set[int]) -> dict[str, tuple[tuple[str, ...], list[dict]]]:
    names = report.get("names", {})
    kappa_rows = [
        {**pair, "reviewer_a": names.get(pair["reviewer_a"]), "reviewer_b": names.get(pair["reviewer_b"])}
        for pair in report.get("kappas", [])
    ]
    return {
        "headline": (HEADLINE_COLUMNS, report.get("headline", [])),
        "criteria": (CRITERION_COLUMNS, report.get("criteria", [])),
        "reviewers": (("name", "flagged", *REVIEWER_COLUMNS), _reviewer_rows(report, flagged)),
        "kappas": (KAPPA_COLUMNS, kappa_rows),
        "length-bias": (LENGTH_COLUMNS, [report["length_bias"]] if "length_bias" in report else []),
        "models": (MODEL_COLUMNS, report.get("models", [])),
        "locales": (SLICE_COLUMNS, report.get("locales", [])),
        "tags": (SLICE_COLUMNS, report.get("tags", [])),
        "over-time": (SLICE_COLUMNS, report.get("over_time", [])),
    }


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
        return _bad_source(error)
    report = quality.campaign_report(campaign=campaign, source=source)
    tables = _csv_tables(report, quality.flagged_reviewer_ids(campaign=campaign))
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
