"""The typed report shaped for the dashboard pages: sorted reviewer table, kappa heatmap, chart series, CSV tables."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from annotate.quality.metrics import CRITERION_COLUMNS, HEADLINE_COLUMNS, LENGTH_COLUMNS, MODEL_COLUMNS, SLICE_COLUMNS
from annotate.quality.report import KappaPair, QualityReport, ReviewerRow
from annotate.quality.reviewers import KAPPA_COLUMNS, REVIEWER_COLUMNS

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
DEFAULT_SORT = "judgments"


@dataclass(frozen=True)
class Header:
    label: str
    url: str
    arrow: str
    aria: str


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def sorted_reviewers(rows: list[ReviewerRow], key: str, descending: bool) -> list[ReviewerRow]:
    """Sort by one column (``name`` sorts by the shown label); missing values (nan, None) always go last."""
    key = key if key in SORTABLE else DEFAULT_SORT

    def value(row: ReviewerRow):
        return row.label if key == "name" else getattr(row, key)

    present = [row for row in rows if not _missing(value(row))]
    absent = [row for row in rows if _missing(value(row))]
    return sorted(present, key=value, reverse=descending) + absent


def reviewer_headers(sort: str, descending: bool, source: str) -> list[Header]:
    """Reviewer table headers: clicking the sorted column flips its direction, another column sorts descending."""
    headers = []
    for column, label in REVIEWER_HEADERS:
        current = column == sort
        direction = "asc" if current and descending else "desc"
        headers.append(
            Header(
                label=label,
                url=f"?source={source}&sort={column}&dir={direction}",
                arrow=(" ▾" if descending else " ▴") if current else "",
                aria=("descending" if descending else "ascending") if current else "",
            )
        )
    return headers


def kappa_heatmap(report: QualityReport) -> dict:
    """Reviewer × reviewer kappa for the busiest reviewers that have at least one pair, as rows of cells."""
    kappas = {(pair.reviewer_a, pair.reviewer_b): pair for pair in report.kappas}
    paired = {reviewer for pair in kappas for reviewer in pair}
    rows = [row for row in report.reviewer_rows if row.reviewer in paired]
    chosen = sorted(rows, key=lambda row: (-row.judgments, row.reviewer))[:HEATMAP_REVIEWERS]
    chosen.sort(key=lambda row: row.reviewer)
    grid = []
    for a in chosen:
        cells = []
        for b in chosen:
            pair = kappas.get((min(a.reviewer, b.reviewer), max(a.reviewer, b.reviewer)))
            kappa = None if a is b or pair is None or math.isnan(pair.kappa) else pair.kappa
            # Hue runs red (kappa <= 0) to green (kappa = 1).
            hue = None if kappa is None else round(120 * min(max(kappa, 0.0), 1.0))
            shared = pair.shared if pair else 0
            cells.append({"kappa": kappa, "shared": shared, "hue": hue, "other_name": b.label})
        grid.append({"reviewer": a.reviewer, "name": a.label, "cells": cells})
    return {"reviewers": [row.label for row in chosen], "rows": grid}


def _finite(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def agreement_chart(report: QualityReport) -> dict:
    """Series for the agreement-over-time chart (JSON: NaN as null)."""
    rows = report.figures.over_time if report.figures else []
    return {
        "labels": [row["slice"] for row in rows],
        "alpha": [_finite(row["alpha"]) for row in rows],
        "percent": [_finite(row["percent_agreement"]) for row in rows],
        "judgments": [row["judgments"] for row in rows],
    }


@dataclass(frozen=True)
class CoReviewer:
    other: int
    name: str
    shared: int
    kappa: float


def co_reviewers(report: QualityReport, reviewer_id: int) -> list[CoReviewer]:
    """Cohen's kappa of one reviewer with each co-reviewer that shares enough pairs."""
    labels = {row.reviewer: row.label for row in report.reviewer_rows}

    def other(pair: KappaPair) -> int:
        return pair.reviewer_b if pair.reviewer_a == reviewer_id else pair.reviewer_a

    return [
        CoReviewer(other(pair), labels.get(other(pair), f"#{other(pair)}"), pair.shared, pair.kappa)
        for pair in report.kappas
        if reviewer_id in (pair.reviewer_a, pair.reviewer_b)
    ]


def csv_tables(report: QualityReport) -> dict[str, tuple[tuple[str, ...], list[dict]]]:
    """Every dashboard table as (columns, rows of dicts) for the CSV downloads."""
    figures = report.figures
    reviewers = [{**asdict(row), "name": row.label} for row in report.reviewer_rows]
    kappas = [{**asdict(pair), "reviewer_a": pair.name_a, "reviewer_b": pair.name_b} for pair in report.kappas]
    return {
        "headline": (HEADLINE_COLUMNS, figures.headline if figures else []),
        "criteria": (CRITERION_COLUMNS, figures.criteria if figures else []),
        "reviewers": (("name", "flagged", *REVIEWER_COLUMNS), reviewers),
        "kappas": (KAPPA_COLUMNS, kappas),
        "length-bias": (LENGTH_COLUMNS, [figures.length_bias] if figures and figures.length_bias else []),
        "models": (MODEL_COLUMNS, figures.models if figures else []),
        "locales": (SLICE_COLUMNS, figures.locales if figures else []),
        "tags": (SLICE_COLUMNS, figures.tags if figures else []),
        "over-time": (SLICE_COLUMNS, figures.over_time if figures else []),
    }
