"""What evaluation reads from annotate: campaigns, the models their candidates name, and judgments for the statistics.

A model is a candidate's (`model_name`, `model_version`). The statistics want one string per model, so each model gets
a key (`model_key`) that the leaderboard turns back into its name and version.

Judgments become `pairwise.Judgment(prompt, model of candidate A, model of candidate B, outcome)`, with:

- Identical answers: two models that gave the same answer to a prompt (same text once whitespace is collapsed) tie
  by construction. Each such (prompt, model, model, text) counts as exactly one tie, whatever the source asked for,
  and judgments of a comparison between two identical texts (possible when judgments were imported) are left out:
  the pair is counted once, never twice.
- Escalations as the export treats them (annotate/services/export_source.py): a lead's resolution replaces the
  escalation's outcome; an unresolved escalation counts for nothing yet; "discard" takes the pair out, every
  judgment of it.
- Flagged reviewers as the export treats them (`export_source.active_flags`, the one read of active flags): the
  judgments of a reviewer a lead flagged in the pair's campaign, or everywhere, are left out and counted apart.
- Gold comparisons are left out (their known answer is a reviewer check, not a model comparison), and so are
  comparisons of one model with itself (two samples of the same model).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from annotate.models import Campaign, Candidate, EscalationResolution, Judgment, Outcome
from annotate.services.export_source import active_flags
from annotate.text import collapsed
from evaluation.models import EvaluationCampaign
from evaluation.pairwise import Judgment as PairwiseJudgment

_KEY_SEPARATOR = "\x1f"  # never in a model name or version typed by anyone
_JUDGMENT_FIELDS = (
    "comparison_id",
    "comparison__campaign_id",
    "reviewer_id",
    "comparison__candidate_a_id",
    "comparison__candidate_b_id",
    "outcome",
    "resolution__decision",
)


def model_key(name: str, version: str) -> str:
    """The one string that names a model (name and version) inside the statistics (`win_rates`, `rankings`)."""
    return f"{name}{_KEY_SEPARATOR}{version}"


def model_of(key: str) -> tuple[str, str]:
    """(name, version) of a `model_key`."""
    name, _, version = key.partition(_KEY_SEPARATOR)
    return name, version


def model_label(key: str) -> str:
    """How a model is written for people and in `baseline=`: `name@version`, or `name` without a version."""
    name, version = model_of(key)
    return f"{name}@{version}" if version else name


def tag_matches(tags: object, tag: str) -> bool:
    """`tag` is `key` (the prompt has the tag) or `key=value` (it has that value), as in annotate's prompt_rows."""
    if not tag:
        return True
    if not isinstance(tags, dict):
        return False
    key, equals, value = tag.partition("=")
    return key in tags and (not equals or str(tags[key]) == value)


def tag_labels(tags: object) -> list[str]:
    """A prompt's tags as `key=value` labels (what the tag tabs and per-tag rows show)."""
    return [f"{key}={value}" for key, value in sorted(tags.items())] if isinstance(tags, dict) else []


def campaigns_by_slugs(*, slugs: Sequence[str]) -> tuple[list[Campaign], list[str]]:
    """The campaigns named, in the order given, and the slugs that name none."""
    found = {campaign.slug: campaign for campaign in Campaign.objects.filter(slug__in=slugs)}
    return [found[slug] for slug in slugs if slug in found], [slug for slug in slugs if slug not in found]


def campaign_list() -> QuerySet[Campaign]:
    """Every campaign, for the leaderboard's picker."""
    return Campaign.objects.order_by("slug")


def campaign_models(*, campaigns: Iterable[Campaign]) -> list[tuple[str, str]]:
    """Every (model name, version) some candidate of the campaigns names, sorted."""
    rows = Candidate.objects.filter(prompt__campaign__in=list(campaigns)).values_list("model_name", "model_version")
    return sorted(set(rows))


@dataclass
class LoadedJudgments:
    """Judgments ready for the statistics, and what the filters could have been (the page's tabs)."""

    judgments: list[PairwiseJudgment] = field(default_factory=list)
    identical_ties: int = 0
    open_escalations: int = 0
    flagged_judgments: int = 0  # of reviewers a lead flagged: left out, as the export leaves them out
    locales: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    prompt_locale: dict[int, str] = field(default_factory=dict)
    prompt_campaign: dict[int, int] = field(default_factory=dict)
    prompt_tags: dict[int, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Answer:
    prompt_id: int
    model: str
    digest: bytes  # of the normalised text: identity without holding every text in memory


def _answers(
    campaigns: Sequence[Campaign], loaded: LoadedJudgments, locale: str, tag: str
) -> tuple[dict[int, _Answer], set[int]]:
    """Every candidate of the campaigns by id, and the prompts under the filters; `loaded` learns each prompt's
    campaign, locale and tags."""
    rows = (
        Candidate.objects.filter(prompt__campaign__in=list(campaigns))
        .order_by("id")
        .values_list(
            "id",
            "prompt_id",
            "prompt__campaign_id",
            "prompt__locale__code",
            "prompt__tags",
            "model_name",
            "model_version",
            "text",
        )
    )
    answers, chosen = {}, set()
    for candidate_id, prompt_id, campaign_id, code, prompt_tags, name, version, text in rows.iterator(chunk_size=2000):
        if prompt_id not in loaded.prompt_locale:
            loaded.prompt_locale[prompt_id], loaded.prompt_tags[prompt_id] = code, tag_labels(prompt_tags)
            loaded.prompt_campaign[prompt_id] = campaign_id
            if (not locale or code == locale) and tag_matches(prompt_tags, tag):
                chosen.add(prompt_id)
        digest = hashlib.blake2b(collapsed(text).encode(), digest_size=16).digest()
        answers[candidate_id] = _Answer(prompt_id, model_key(name, version), digest)
    return answers, chosen


def _identical_ties(answers: Iterable[_Answer], chosen: set[int]) -> list[PairwiseJudgment]:
    """One tie per (prompt, two models, answer) where two models gave the same normalised answer."""
    models_by_answer: dict[tuple[int, bytes], set[str]] = {}
    for answer in answers:
        if answer.prompt_id in chosen:
            models_by_answer.setdefault((answer.prompt_id, answer.digest), set()).add(answer.model)
    return [
        PairwiseJudgment(prompt_id, a, b, "tie")
        for (prompt_id, _), models in sorted(models_by_answer.items())
        for a, b in itertools.combinations(sorted(models), 2)
    ]


def judgments_load(
    *, campaigns: Sequence[Campaign], sources: Sequence[str], locale: str = "", tag: str = ""
) -> LoadedJudgments:
    """The campaigns' judgments from `sources` on prompts of `locale` with `tag` (empty: any), for the statistics,
    plus one tie per identical answer (see the module docstring). Three reads: the candidates, the active flags,
    then the judgments."""
    loaded = LoadedJudgments()
    answers, chosen = _answers(campaigns, loaded, locale, tag)
    rows = (
        Judgment.objects.filter(comparison__campaign__in=list(campaigns), source__in=list(sources))
        .filter(comparison__gold_outcome="")
        .order_by("comparison_id", "id")
        .values_list(*_JUDGMENT_FIELDS)
    )
    flags = active_flags([campaign.id for campaign in campaigns])
    discarded: set[int] = set()
    counted: list[tuple[int, _Answer, _Answer, str]] = []
    for comparison_id, campaign_id, reviewer_id, candidate_a, candidate_b, outcome, decision in rows.iterator(
        chunk_size=2000
    ):
        a, b = answers.get(candidate_a), answers.get(candidate_b)
        if a is None or b is None or a.prompt_id not in chosen:  # None: a pair filed under another campaign's prompt
            continue
        if (reviewer_id, None) in flags or (reviewer_id, campaign_id) in flags:
            loaded.flagged_judgments += 1
            continue
        if outcome == Outcome.ESCALATE:
            if decision is None:
                loaded.open_escalations += 1
                continue
            if decision == EscalationResolution.Decision.DISCARD:
                discarded.add(comparison_id)
                continue
            outcome = decision
        if a.model != b.model and a.digest != b.digest:  # identical answers are counted once below
            counted.append((comparison_id, a, b, outcome))
    loaded.judgments = [
        PairwiseJudgment(a.prompt_id, a.model, b.model, outcome)
        for comparison_id, a, b, outcome in counted
        if comparison_id not in discarded
    ]
    ties = _identical_ties(answers.values(), chosen)
    loaded.identical_ties = len(ties)
    loaded.judgments.extend(ties)
    loaded.locales = sorted(set(loaded.prompt_locale.values()))
    loaded.tags = sorted({label for labels in loaded.prompt_tags.values() for label in labels})
    return loaded


def run_evaluations(*, run_id: int) -> list[EvaluationCampaign]:
    """A run's evaluation campaigns, newest first."""
    return list(
        EvaluationCampaign.objects.filter(run_id=run_id)
        .select_related("campaign", "generation_job")
        .order_by("-created_at", "-id")
    )


def evaluations_by_run(*, run_ids: Iterable[int]) -> dict[int, list[EvaluationCampaign]]:
    """Each run's evaluation campaigns, newest first (runs without one are absent)."""
    by_run: dict[int, list[EvaluationCampaign]] = {}
    rows = EvaluationCampaign.objects.filter(run_id__in=list(run_ids)).select_related("campaign")
    for evaluation in rows.order_by("-created_at", "-id"):
        by_run.setdefault(evaluation.run_id, []).append(evaluation)
    return by_run
