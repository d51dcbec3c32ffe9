"""The leaderboard: every model of some campaigns ranked by Bradley–Terry, with win rates against a baseline.

A read (a selector): judgments come from `selectors.judgments_load` (flagged reviewers' left out, as in exports),
statistics from `rankings` and `win_rates`. Ratings put the baseline at 1000 (without one, their mean); `win_rate` is
each model's head-to-head rate against the baseline. When the maximum-likelihood ratings do not exist (a model that
never won, groups that never met), the ratings are fit again with a small prior (`rankings` explains it) and the
leaderboard says so in `note`: a lead still sees every model, and the reason the ratings are shrunk.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from annotate.models import Campaign
from annotate.sources import sources_for
from evaluation import pairwise, rankings, selectors, win_rates
from evaluation.selectors import model_key, model_label, model_of

# Pseudo-ties per pair of models when the plain fit does not exist: small enough to keep the order, big enough to
# keep every rating finite (rankings' module docstring).
FALLBACK_PRIOR = 0.01
RESAMPLES = 1000
SEED = 0


class LeaderboardError(ValueError):
    """A request the leaderboard cannot answer; `field` names the query parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ModelRow:
    model: str
    version: str
    score: float
    rating: float
    rating_ci: tuple[float, float]
    win_rate: float | None
    win_rate_ci: tuple[float, float] | None
    judgments: int
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0
    judgments_to_separate: int | None = None
    judgments_to_separate_next: int | None = None

    @property
    def label(self) -> str:
        return model_label(model_key(self.model, self.version))


@dataclass(frozen=True)
class Matrix:
    """rates[i][j]: win rate of models[i] over models[j] (None where they never met); counts: rated judgments."""

    models: list[str]
    rates: list[list[float | None]]
    counts: list[list[int]]


@dataclass
class Leaderboard:
    campaigns: list[str]
    source: str
    baseline: str | None
    locale: str
    tag: str
    models: list[ModelRow] = field(default_factory=list)
    matrix: Matrix = field(default_factory=lambda: Matrix([], [], []))
    judgments: int = 0
    both_bad: int = 0
    identical_ties: int = 0
    open_escalations: int = 0
    flagged_judgments: int = 0
    locales: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    note: str = ""


def baseline_resolve(*, baseline: str, campaigns: Sequence[Campaign]) -> str:
    """The model key `baseline` names among the campaigns' candidates: `name`, when the name has one version, or
    `name@version`. LeaderboardError("baseline", …) for an unknown or ambiguous name."""
    models = selectors.campaign_models(campaigns=campaigns)
    versions = sorted(version for name, version in models if name == baseline)
    if len(versions) == 1:
        return model_key(baseline, versions[0])
    if versions:
        options = ", ".join(f"{baseline}@{version}" for version in versions)
        raise LeaderboardError("baseline", f"{baseline!r} has several versions: name one of {options}")
    name, at, version = baseline.rpartition("@")
    if at and (name, version) in models:
        return model_key(name, version)
    known = ", ".join(model_label(model_key(*model)) for model in models) or "none"
    raise LeaderboardError("baseline", f"{baseline!r} is not a model of these campaigns (models: {known})")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _matrix(judgments: list[pairwise.Judgment], order: list[str]) -> Matrix:
    result = win_rates.win_rate_matrix(judgments)
    index = [result.models.index(key) for key in order]
    return Matrix(
        models=[model_label(key) for key in order],
        rates=[[_finite(float(result.rates[i, j])) for j in index] for i in index],
        counts=[[int(result.counts[i, j]) for j in index] for i in index],
    )


def _ranking(judgments: list[pairwise.Judgment], baseline: str | None) -> tuple[rankings.Ranking, str]:
    """The Arena-style ranking, refit with FALLBACK_PRIOR (and a note saying why) when the plain fit does not exist."""
    try:
        return rankings.rank(judgments, baseline=baseline, resamples=RESAMPLES, seed=SEED), ""
    except rankings.RankingError as error:
        names = ", ".join(model_label(key) for key in error.models)
        note = (
            f"Plain Bradley–Terry ratings do not exist here: {names} {error.problem}. These ratings add "
            f"{FALLBACK_PRIOR} pseudo-ties between every two models to stay finite; more judgments will firm them up."
        )
        return rankings.rank(judgments, baseline=baseline, prior=FALLBACK_PRIOR, resamples=RESAMPLES, seed=SEED), note


def judgments_to_parity(result: win_rates.WinRate) -> int | None:
    """While a win rate's interval still holds 0.5: about how many more judgments would exclude it (None otherwise,
    or when the rate is exactly 0.5)."""
    if result.interval is None or not result.interval.low <= 0.5 <= result.interval.high:
        return None
    return win_rates.judgments_to_separate(
        estimate_a=result.rate,
        interval_a=result.interval,
        estimate_b=0.5,
        interval_b=pairwise.Interval(0.5, 0.5),
        judgments=result.wins + result.losses + result.ties,
    )


def _row(ranked: rankings.RankedModel, judgments: list[pairwise.Judgment], baseline: str | None) -> ModelRow:
    name, version = model_of(ranked.model)
    row = ModelRow(
        model=name,
        version=version,
        score=ranked.score,
        rating=ranked.rating,
        rating_ci=(ranked.rating_interval.low, ranked.rating_interval.high),
        win_rate=None,
        win_rate_ci=None,
        judgments=ranked.judgments,
    )
    if baseline is None or ranked.model == baseline:
        return row
    result = win_rates.win_rate(judgments, model=ranked.model, opponent=baseline, resamples=RESAMPLES, seed=SEED)
    return replace(
        row,
        win_rate=result.rate,
        win_rate_ci=(result.interval.low, result.interval.high) if result.interval else None,
        wins=result.wins,
        losses=result.losses,
        ties=result.ties,
        both_bad=result.both_bad,
        judgments_to_separate=judgments_to_parity(result),
    )


def _with_next_separation(rows: list[ModelRow], judgments: int) -> list[ModelRow]:
    """Each model whose rating interval overlaps the next model's (one place down): about how many more judgments,
    in all and spread like these, would separate them. The intervals come from every judgment of the fit, so they
    shrink with the total."""
    separated = []
    for row, below in itertools.zip_longest(rows, rows[1:]):
        needed = None
        if below is not None and row.rating_ci[0] <= below.rating_ci[1]:
            needed = win_rates.judgments_to_separate(
                estimate_a=row.rating,
                interval_a=pairwise.Interval(*row.rating_ci),
                estimate_b=below.rating,
                interval_b=pairwise.Interval(*below.rating_ci),
                judgments=judgments,
            )
        separated.append(replace(row, judgments_to_separate_next=needed))
    return separated


def leaderboard_get(
    *, campaigns: Sequence[Campaign], source: str = "human", baseline: str = "", locale: str = "", tag: str = ""
) -> Leaderboard:
    """The leaderboard of the campaigns' judgments from `source` (human, ai or all) on prompts of `locale` with `tag`.

    LeaderboardError for an unknown source or baseline; degenerate data gives an empty or regularised leaderboard
    with a `note`, never an error.
    """
    try:
        sources = sources_for(source)
    except ValueError as error:
        raise LeaderboardError("source", str(error).removeprefix("source: ")) from None
    baseline_key = baseline_resolve(baseline=baseline, campaigns=campaigns) if baseline else None
    loaded = selectors.judgments_load(campaigns=campaigns, sources=sources, locale=locale, tag=tag)
    board = Leaderboard(
        campaigns=[campaign.slug for campaign in campaigns],
        source=source,
        baseline=model_label(baseline_key) if baseline_key else None,
        locale=locale,
        tag=tag,
        judgments=len(loaded.judgments),
        both_bad=sum(j.outcome == pairwise.Outcome.BOTH_BAD for j in loaded.judgments),
        identical_ties=loaded.identical_ties,
        open_escalations=loaded.open_escalations,
        flagged_judgments=loaded.flagged_judgments,
        locales=loaded.locales,
        tags=loaded.tags,
    )
    rated = [j for j in loaded.judgments if j.outcome != pairwise.Outcome.BOTH_BAD]
    if not rated:
        board.note = "No judgments yet under these filters."
        return board
    judged = {j.model_a for j in rated} | {j.model_b for j in rated}
    anchor = baseline_key if baseline_key in judged else None
    if baseline_key and anchor is None:
        board.note = f"The baseline {board.baseline} has no judgment under these filters: ratings centre on their mean."
    try:
        ranking, note = _ranking(rated, anchor)
    except rankings.RankingError as error:  # even the regularised fit failed: say so, show nothing wrong
        board.note = f"No ranking: {error}."
        return board
    board.note = " ".join(filter(None, [board.note, note]))
    board.models = _with_next_separation(
        [_row(ranked, loaded.judgments, anchor) for ranked in ranking.models], len(rated)
    )
    board.matrix = _matrix(rated, [ranked.model for ranked in ranking.models])
    return board
