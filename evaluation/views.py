"""Evaluation pages (leads only): the leaderboard, and the run report's and runs list's human-evaluation parts.

The run page and the runs list belong to training, which never imports evaluation: they ask for these fragments by
URL (htmx), so only a `{% url %}` in their templates names this app.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from annotate.permissions import lead_required
from annotate.sources import DEFAULT_FILTER, SOURCE_FILTERS
from config.ids import InvalidId, parse_ids
from evaluation import selectors
from evaluation.human_evaluation import run_human_evaluations, run_win_rates
from evaluation.leaderboard import Leaderboard, LeaderboardError, leaderboard_get
from evaluation.selectors import model_key, model_label
from training import selectors as training_selectors

MAX_LISTED_RUNS = 100


@lead_required
@require_GET
def run_human_evaluation(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run report's "Human evaluation" section (an htmx fragment the run page loads)."""
    run = training_selectors.run_get(run_id=run_id)
    context = {"run": run, "evaluations": run_human_evaluations(run_id=run.id)}
    return render(request, "evaluation/_human_evaluation.html", context)


@lead_required
@require_GET
def run_win_rate_cells(request: HttpRequest) -> HttpResponse:
    """`?runs=3,5,8`: the runs list's win-rate cells, swapped in out of band (one request for the whole list)."""
    try:
        run_ids = parse_ids(request.GET.getlist("runs"))[:MAX_LISTED_RUNS]
    except InvalidId as bad:
        return HttpResponse(f"runs: {bad}", status=400, content_type="text/plain")
    rates = run_win_rates(run_ids=run_ids)
    return render(request, "evaluation/_run_win_rates.html", {"rates": sorted(rates.items())})


def _bars(board: Leaderboard) -> list[dict]:
    """Each model's rating interval and point as percentages of one shared axis (the page draws them in SVG)."""
    if not board.models:
        return []
    low = min(row.rating_ci[0] for row in board.models)
    high = max(row.rating_ci[1] for row in board.models)
    span = (high - low) or 1.0

    def at(value: float) -> float:
        return round(100 * (value - low) / span, 2)

    return [
        {"row": row, "low": at(row.rating_ci[0]), "high": at(row.rating_ci[1]), "point": at(row.rating)}
        for row in board.models
    ]


def _heat(rate: float | None) -> str:
    """A cell's colour: red below parity, white at 0.5, green above; grey where the models never met."""
    if rate is None:
        return "#eee"
    if rate >= 0.5:
        return f"hsl(140, 55%, {round(100 - 50 * (rate - 0.5))}%)"
    return f"hsl(5, 70%, {round(100 - 50 * (0.5 - rate))}%)"


def _heatmap(board: Leaderboard) -> list[dict]:
    matrix = board.matrix
    return [
        {
            "model": model,
            "cells": [
                {"rate": rate, "count": count, "colour": _heat(rate), "opponent": matrix.models[j]}
                for j, (rate, count) in enumerate(zip(matrix.rates[i], matrix.counts[i], strict=True))
            ],
        }
        for i, model in enumerate(matrix.models)
    ]


def _tab_links(request: HttpRequest, name: str, values: list[str]) -> list[dict]:
    """Links to the same leaderboard with `name` set to each value (and to nothing: "all")."""
    current = request.GET.get(name, "")
    links = []
    for value in ["", *values]:
        query = request.GET.copy()
        query[name] = value
        if not value:
            query.pop(name)
        links.append({"label": value or "all", "href": f"?{query.urlencode()}", "active": value == current})
    return links


@lead_required
@require_GET
def leaderboard(request: HttpRequest) -> HttpResponse:
    """Pick campaigns, a source and a baseline; tabs per locale and tag; ratings with intervals and the matrix."""
    slugs = [slug for value in request.GET.getlist("campaigns") for slug in value.split(",") if slug.strip()]
    source = request.GET.get("source") or DEFAULT_FILTER
    baseline = request.GET.get("baseline", "").strip()
    locale, tag = request.GET.get("locale", ""), request.GET.get("tag", "")
    campaigns, unknown = selectors.campaigns_by_slugs(slugs=[slug.strip()[:100] for slug in slugs][:50])
    context = {
        "all_campaigns": selectors.campaign_list(),
        "chosen": [campaign.slug for campaign in campaigns],
        "sources": list(SOURCE_FILTERS),
        "source": source,
        "baseline": baseline,
        "models": [model_label(model_key(*m)) for m in selectors.campaign_models(campaigns=campaigns)],
        "board": None,
        "errors": [],
    }
    if unknown:
        context["errors"].append(f"campaigns: no such campaign: {', '.join(unknown)}")
    if campaigns and not unknown:
        try:
            board = leaderboard_get(campaigns=campaigns, source=source, baseline=baseline, locale=locale, tag=tag)
        except LeaderboardError as error:
            context["errors"].append(f"{error.field}: {error}")
        else:
            context.update(
                board=board,
                bars=_bars(board),
                heatmap=_heatmap(board),
                locale_tabs=_tab_links(request, "locale", board.locales),
                tag_tabs=_tab_links(request, "tag", board.tags),
            )
    return render(request, "evaluation/leaderboard.html", context, status=400 if context["errors"] else 200)
