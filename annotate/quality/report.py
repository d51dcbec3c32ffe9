"""The quality report as one typed value, built by one function for the dashboard pages, the CSVs and the API.

The cached report (``store``) is plain data computed from judgments; what changes without new judgments is added
here, on every read: reviewer and judge names and the leads' flags.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from annotate.models import Campaign
from annotate.quality.drilldown import flagged_reviewer_ids
from annotate.quality.refresh import campaign_report_state
from annotate.sources import DEFAULT_FILTER

OUTLIER_FLAGS = ("too_fast", "low_agreement", "position_bias")


@dataclass(frozen=True)
class ReviewerRow:
    """One reviewer's figures (``reviewers.REVIEWER_COLUMNS``), their name and whether a lead flagged them."""

    reviewer: int
    name: str | None
    flagged: bool
    judgments: int
    median_seconds: float
    majority_agreement: float
    majority_judgments: int
    gold_accuracy: float
    gold_judgments: int
    left_share: float
    left_p_value: float
    tie_share: float
    both_bad_share: float
    escalate_share: float
    too_fast: bool
    low_agreement: bool
    position_bias: bool

    @property
    def label(self) -> str:
        return self.name or f"#{self.reviewer}"

    @property
    def outlier(self) -> bool:
        return any(getattr(self, flag) for flag in OUTLIER_FLAGS)


@dataclass(frozen=True)
class KappaPair:
    reviewer_a: int
    reviewer_b: int
    shared: int
    kappa: float
    name_a: str | None
    name_b: str | None


@dataclass(frozen=True)
class JudgeRow:
    """An AI judge against the human majority (``judges.JUDGE_COLUMNS``) and how often it held its verdict when
    the pair's order was swapped."""

    judge: int
    name: str | None
    pairs: int
    accuracy: float
    kappa: float
    tie_share: float
    confusion: list[list[int]]
    position_consistency: float
    order_checked: int
    order_flips: int

    @property
    def label(self) -> str:
        return self.name or f"#{self.judge}"


@dataclass(frozen=True)
class Figures:
    """The campaign-wide numbers, rows keyed by the ``metrics`` *_COLUMNS tuples."""

    judgments: int
    comparisons: int
    reviewers: int
    headline: list[dict] = field(default_factory=list)
    criteria: list[dict] = field(default_factory=list)
    length_bias: dict | None = None
    models: list[dict] = field(default_factory=list)
    locales: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    time_unit: str = "day"
    over_time: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class QualityReport:
    campaign: Campaign
    source: str
    updating: bool  # a fresher report is on its way
    computing: bool  # no report yet: a worker computes the first one (everything below is empty)
    empty: bool = True
    figures: Figures | None = None
    reviewer_rows: list[ReviewerRow] = field(default_factory=list)
    kappas: list[KappaPair] = field(default_factory=list)
    judges: list[JudgeRow] = field(default_factory=list)

    def reviewer(self, reviewer_id: int) -> ReviewerRow | None:
        return next((row for row in self.reviewer_rows if row.reviewer == reviewer_id), None)

    def as_json(self) -> dict[str, Any]:
        """The API body: figures flat beside the tables, undefined figures (NaN) as null."""
        if self.computing:
            return {"campaign": self.campaign.slug, "source": self.source, "computing": True}
        body: dict[str, Any] = {"campaign": self.campaign.slug, "source": self.source, "updating": self.updating}
        body["empty"] = self.empty
        figures = asdict(self.figures) if self.figures else {}
        if self.empty:
            figures = {key: figures[key] for key in ("judgments", "comparisons", "reviewers")}
        body.update(figures)
        body["reviewer_rows"] = [asdict(row) for row in self.reviewer_rows]
        body["kappas"] = [asdict(pair) for pair in self.kappas]
        body["judges"] = [asdict(row) for row in self.judges]
        return _plain(body)


def _plain(value: Any) -> Any:
    """JSON has no NaN: an undefined figure (too few pairs, one category) is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _typed(campaign: Campaign, source: str, updating: bool, data: dict, flagged: set[int]) -> QualityReport:
    names = data.get("names", {})
    figure_keys = {name for name in Figures.__dataclass_fields__}
    figures = Figures(**{key: value for key, value in data.items() if key in figure_keys})
    return QualityReport(
        campaign=campaign,
        source=source,
        updating=updating,
        computing=False,
        empty=data["empty"],
        figures=figures,
        reviewer_rows=[
            ReviewerRow(**row, name=names.get(row["reviewer"]), flagged=row["reviewer"] in flagged)
            for row in data.get("reviewer_rows", [])
        ],
        kappas=[
            KappaPair(**pair, name_a=names.get(pair["reviewer_a"]), name_b=names.get(pair["reviewer_b"]))
            for pair in data.get("kappas", [])
        ],
        judges=[JudgeRow(**row, name=names.get(row["judge"])) for row in data.get("judges", [])],
    )


def quality_report(*, campaign: Campaign, source: str = DEFAULT_FILTER, wait: bool = False) -> QualityReport:
    """The campaign's report for the judgments ``source`` keeps, with names and flags.

    Without ``wait`` a big campaign never computed before comes back ``computing`` while a worker computes it (the
    overview page and the API); with ``wait`` it is computed now (drill-down and CSV pages, reached from an overview
    that already has one). Raises SourceFilterError for an unknown source."""
    state = campaign_report_state(campaign=campaign, wait=wait, source=source)
    data = state.report
    if data is None:
        return QualityReport(campaign=campaign, source=source, updating=True, computing=True)
    return _typed(campaign, source, state.updating, data, flagged_reviewer_ids(campaign=campaign))
