"""A run's human evaluation: what reviewers said of the run against its baseline, for the run report and runs list.

Reviewers' and imported annotators' judgments only ("human"), read like the leaderboard reads them
(`selectors.judgments_load`: identical answers tie once, escalations counted once a lead resolved them, judgments of
reviewers a lead flagged left out as exports leave them out).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
from django.db.models import Count, Q
from django.urls import reverse

from annotate.models import Comparison, Judgment
from annotate.quality.agreement import krippendorff_alpha_long, percent_agreement
from annotate.services.export_source import active_flags
from annotate.sources import HUMAN_SOURCES, REVIEWER
from evaluation import pairwise, selectors, win_rates
from evaluation.leaderboard import judgments_to_parity
from evaluation.models import EvaluationCampaign
from evaluation.selectors import model_key, model_label

RESAMPLES = 1000
SEED = 0
AGREEMENT_OUTCOMES = ("a", "b", "tie", "both_bad")


@dataclass(frozen=True)
class WinRateRow:
    """The run against the baseline on some prompts: `rate` with ties half, both-bad apart; None: nothing rated."""

    label: str
    wins: int
    losses: int
    ties: int
    both_bad: int
    rate: float | None
    interval: tuple[float, float] | None
    judgments_to_separate: int | None = None  # while the interval holds 0.5

    @property
    def judgments(self) -> int:
        return self.wins + self.losses + self.ties + self.both_bad

    @property
    def both_bad_share(self) -> float | None:
        return self.both_bad / self.judgments if self.judgments else None


@dataclass
class HumanEvaluation:
    evaluation: EvaluationCampaign
    run_model: str
    baseline_model: str
    overall: WinRateRow
    by_locale: list[WinRateRow] = field(default_factory=list)
    by_tag: list[WinRateRow] = field(default_factory=list)
    overlap: int = 1
    agreement_alpha: float | None = None
    agreement_percent: float | None = None
    open_judgments: int = 0
    open_escalations: int = 0
    flagged_judgments: int = 0
    leaderboard_query: str = ""

    @property
    def judgments_to_separate(self) -> int | None:
        return self.overall.judgments_to_separate

    @property
    def slices(self) -> list[tuple[str, list[WinRateRow]]]:
        return [("Locale", self.by_locale), ("Tag", self.by_tag)]

    @property
    def leaderboard_url(self) -> str:
        return f"{reverse('evaluation:leaderboard')}?{self.leaderboard_query}"


def _row(label: str, judgments: list[pairwise.Judgment], run: str, baseline: str, resamples: int) -> WinRateRow:
    result = win_rates.win_rate(judgments, model=run, opponent=baseline, resamples=resamples, seed=SEED)
    interval = (result.interval.low, result.interval.high) if result.interval else None
    return WinRateRow(
        label,
        result.wins,
        result.losses,
        result.ties,
        result.both_bad,
        result.rate,
        interval,
        judgments_to_parity(result),
    )


def _finite(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _agreement(evaluation: EvaluationCampaign) -> tuple[float | None, float | None]:
    """Krippendorff's alpha (nominal) and percent agreement of the human outcomes per non-gold pair, flagged
    reviewers left out."""
    flagged = {reviewer_id for reviewer_id, _ in active_flags([evaluation.campaign_id])}
    rows = list(
        Judgment.objects.filter(
            comparison__campaign_id=evaluation.campaign_id, comparison__gold_outcome="", source__in=HUMAN_SOURCES
        )
        .filter(outcome__in=AGREEMENT_OUTCOMES)
        .exclude(reviewer_id__in=flagged)
        .values_list("comparison_id", "outcome")
    )
    if not rows:
        return None, None
    units = np.array([comparison for comparison, _ in rows])
    values = np.array([AGREEMENT_OUTCOMES.index(outcome) for _, outcome in rows])
    unit_ids, unit_index = np.unique(units, return_inverse=True)
    counts = np.zeros((len(unit_ids), len(AGREEMENT_OUTCOMES)), dtype=np.int64)
    np.add.at(counts, (unit_index, values), 1)
    return _finite(krippendorff_alpha_long(units, values)), _finite(percent_agreement(counts))


def _open_judgments(evaluation: EvaluationCampaign) -> int:
    """Reviewer judgments still wanted: per non-gold pair, the campaign's overlap less the judgments it has."""
    overlap = evaluation.campaign.overlap
    judged = (
        Comparison.objects.filter(campaign_id=evaluation.campaign_id, gold_outcome="")
        .annotate(done=Count("judgments", filter=Q(judgments__source=REVIEWER)))
        .values_list("done", flat=True)
    )
    return sum(max(0, overlap - done) for done in judged)


def _keys(evaluation: EvaluationCampaign) -> tuple[str, str]:
    return (
        model_key(evaluation.run_model, evaluation.run_model_version),
        model_key(evaluation.baseline_model, evaluation.baseline_model_version),
    )


def human_evaluation_get(*, evaluation: EvaluationCampaign, resamples: int = RESAMPLES) -> HumanEvaluation:
    """The run against its baseline in one evaluation campaign: overall, per locale and per tag, with agreement
    (when the campaign's overlap is over 1) and what is still to judge."""
    run, baseline = _keys(evaluation)
    loaded = selectors.judgments_load(campaigns=[evaluation.campaign], sources=HUMAN_SOURCES)
    judgments = [j for j in loaded.judgments if {j.model_a, j.model_b} == {run, baseline}]
    overall = _row("all prompts", judgments, run, baseline, resamples)
    by_locale = [
        _row(code, [j for j in judgments if loaded.prompt_locale.get(j.prompt_id) == code], run, baseline, resamples)
        for code in loaded.locales
    ]
    by_tag = [
        _row(tag, [j for j in judgments if tag in loaded.prompt_tags.get(j.prompt_id, ())], run, baseline, resamples)
        for tag in loaded.tags
    ]
    result = HumanEvaluation(
        evaluation=evaluation,
        run_model=model_label(run),
        baseline_model=model_label(baseline),
        overall=overall,
        by_locale=[row for row in by_locale if row.judgments],
        by_tag=[row for row in by_tag if row.judgments],
        overlap=evaluation.campaign.overlap,
        open_judgments=_open_judgments(evaluation),
        open_escalations=loaded.open_escalations,
        flagged_judgments=loaded.flagged_judgments,
        leaderboard_query=urlencode(
            {"campaigns": evaluation.campaign.slug, "source": "human", "baseline": model_label(baseline)}
        ),
    )
    if result.overlap > 1:
        result.agreement_alpha, result.agreement_percent = _agreement(evaluation)
    return result


def run_human_evaluations(*, run_id: int, resamples: int = RESAMPLES) -> list[HumanEvaluation]:
    """Every evaluation campaign of the run, newest first."""
    return [
        human_evaluation_get(evaluation=evaluation, resamples=resamples)
        for evaluation in selectors.run_evaluations(run_id=run_id)
    ]


def run_win_rates(*, run_ids: Iterable[int]) -> dict[int, WinRateRow]:
    """Each run's win rate against the baseline of its newest evaluation, over every evaluation campaign of the run
    against that baseline (a newer one still waiting for judgments does not hide an older one's); no interval (the
    runs list). One read of every such campaign's judgments, whatever the number of runs."""
    by_run = selectors.evaluations_by_run(run_ids=run_ids)
    if not by_run:
        return {}
    campaigns = list({e.campaign_id: e.campaign for evaluations in by_run.values() for e in evaluations}.values())
    loaded = selectors.judgments_load(campaigns=campaigns, sources=HUMAN_SOURCES)
    rates = {}
    for run_id, evaluations in by_run.items():
        run, baseline = _keys(evaluations[0])
        pooled = [e for e in evaluations if _keys(e) == (run, baseline)]
        campaign_ids = {e.campaign_id for e in pooled}
        judgments = [
            j
            for j in loaded.judgments
            if loaded.prompt_campaign.get(j.prompt_id) in campaign_ids and {j.model_a, j.model_b} == {run, baseline}
        ]
        # The list shows the rate alone: one resample is the cheapest bootstrap, and its interval is dropped.
        row = _row(", ".join(e.campaign.slug for e in pooled), judgments, run, baseline, resamples=1)
        rates[run_id] = WinRateRow(row.label, row.wins, row.losses, row.ties, row.both_bad, row.rate, None)
    return rates
