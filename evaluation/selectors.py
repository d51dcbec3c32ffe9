"""What evaluation reads from annotate: campaigns, the models their candidates name, and judgments as rankings input.

A model is a candidate's (`model_name`, `model_version`). `rankings` wants one string per model, so each model gets
a key (`model_key`) that the leaderboard turns back into its name and version.

Judgments become `rankings.Judgment(prompt, model of candidate A, model of candidate B, outcome)`, with:

- Identical answers: two models that gave the same answer to a prompt (same text once whitespace is collapsed) tie
  by construction. Each such (prompt, model, model, text) counts as exactly one tie, whatever the source asked for,
  and judgments of a comparison between two identical texts (possible when judgments were imported) are left out:
  the pair is counted once, never twice.
- Escalations as the export treats them (annotate/services/export_source.py): a lead's resolution replaces the
  escalation's outcome; an unresolved escalation counts for nothing yet; "discard" takes the pair out, every
  judgment of it.
- Gold comparisons are left out (their known answer is a reviewer check, not a model comparison), and so are
  comparisons of one model with itself (two samples of the same model).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from annotate.models import Campaign, Candidate, EscalationResolution, Judgment, Outcome
from evaluation.models import EvaluationCampaign
from evaluation.rankings import Judgment as RankedJudgment

_KEY_SEPARATOR = "\x1f"  # never in a model name or version typed by anyone
_WHITESPACE = re.compile(r"\s+")
_JUDGMENT_FIELDS = (
    "comparison_id",
    "comparison__prompt_id",
    "comparison__prompt__locale__code",
    "comparison__prompt__tags",
    "comparison__candidate_a__model_name",
    "comparison__candidate_a__model_version",
    "comparison__candidate_a__text",
    "comparison__candidate_b__model_name",
    "comparison__candidate_b__model_version",
    "comparison__candidate_b__text",
    "outcome",
    "resolution__decision",
)


def model_key(name: str, version: str) -> str:
    """The one string that names a model (name and version) inside rankings."""
    return f"{name}{_KEY_SEPARATOR}{version}"


def model_of(key: str) -> tuple[str, str]:
    """(name, version) of a `model_key`."""
    name, _, version = key.partition(_KEY_SEPARATOR)
    return name, version


def model_label(key: str) -> str:
    """How a model is written for people and in `baseline=`: `name@version`, or `name` without a version."""
    name, version = model_of(key)
    return f"{name}@{version}" if version else name


def normalised_answer(text: str) -> str:
    """An answer as compared for identity: surrounding whitespace dropped, inner runs of whitespace made one space."""
    return _WHITESPACE.sub(" ", text).strip()


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
    """Judgments ready for rankings, and what the filters could have been (the page's tabs)."""

    judgments: list[RankedJudgment] = field(default_factory=list)
    identical_ties: int = 0
    open_escalations: int = 0
    locales: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    prompt_locale: dict[int, str] = field(default_factory=dict)
    prompt_campaign: dict[int, int] = field(default_factory=dict)
    prompt_tags: dict[int, list[str]] = field(default_factory=dict)


def _identical_ties(
    campaigns: Sequence[Campaign], locale: str, tag: str, loaded: LoadedJudgments
) -> list[RankedJudgment]:
    """One tie per (prompt, two models, answer) where two models gave the same normalised answer, on the prompts
    under the filters; `loaded` learns every prompt's locale and tags (the page's tabs, the report's slices)."""
    rows = (
        Candidate.objects.filter(prompt__campaign__in=list(campaigns))
        .order_by("prompt_id", "id")
        .values_list(
            "prompt_id",
            "prompt__campaign_id",
            "prompt__locale__code",
            "prompt__tags",
            "model_name",
            "model_version",
            "text",
        )
    )
    models_by_answer: dict[tuple[int, str], set[str]] = {}
    for prompt_id, campaign_id, code, prompt_tags, name, version, text in rows.iterator(chunk_size=2000):
        if prompt_id not in loaded.prompt_locale:
            loaded.prompt_locale[prompt_id], loaded.prompt_tags[prompt_id] = code, tag_labels(prompt_tags)
            loaded.prompt_campaign[prompt_id] = campaign_id
        if (locale and code != locale) or not tag_matches(prompt_tags, tag):
            continue
        models_by_answer.setdefault((prompt_id, normalised_answer(text)), set()).add(model_key(name, version))
    return [
        RankedJudgment(prompt_id, a, b, "tie")
        for (prompt_id, _), models in models_by_answer.items()
        for a, b in itertools.combinations(sorted(models), 2)
    ]


def judgments_load(
    *, campaigns: Sequence[Campaign], sources: Sequence[str], locale: str = "", tag: str = ""
) -> LoadedJudgments:
    """The campaigns' judgments from `sources` on prompts of `locale` with `tag` (empty: any), as rankings input,
    plus one tie per identical answer (see the module docstring)."""
    rows = (
        Judgment.objects.filter(comparison__campaign__in=list(campaigns), source__in=list(sources))
        .filter(comparison__gold_outcome="")
        .order_by("comparison_id", "id")
        .values_list(*_JUDGMENT_FIELDS)
    )
    loaded = LoadedJudgments()
    discarded: set[int] = set()
    kept: list[tuple] = []
    for row in rows.iterator(chunk_size=2000):
        comparison_id, _, row_locale, row_tags, *_, outcome, decision = row
        if (locale and row_locale != locale) or not tag_matches(row_tags, tag):
            continue
        if outcome == Outcome.ESCALATE:
            if decision is None:
                loaded.open_escalations += 1
                continue
            if decision == EscalationResolution.Decision.DISCARD:
                discarded.add(comparison_id)
                continue
        kept.append(row)
    for comparison_id, prompt_id, _, _, name_a, version_a, text_a, name_b, version_b, text_b, outcome, decision in kept:
        model_a, model_b = model_key(name_a, version_a), model_key(name_b, version_b)
        if comparison_id in discarded or model_a == model_b:
            continue
        if normalised_answer(text_a) == normalised_answer(text_b):
            continue  # counted once below, as the tie it is by construction
        outcome = decision if outcome == Outcome.ESCALATE else outcome
        loaded.judgments.append(RankedJudgment(prompt_id, model_a, model_b, outcome))
    ties = _identical_ties(campaigns, locale, tag, loaded)
    loaded.identical_ties = len(ties)
    loaded.judgments.extend(ties)
    loaded.locales = sorted(set(loaded.prompt_locale.values()))
    loaded.tags = sorted({label for labels in loaded.prompt_tags.values() for label in labels})
    return loaded


def run_evaluations(*, run_id: int) -> list[EvaluationCampaign]:
    """A run's evaluation campaigns, newest first."""
    return list(
        EvaluationCampaign.objects.filter(run_id=run_id).select_related("campaign").order_by("-created_at", "-id")
    )


def latest_evaluations(*, run_ids: Iterable[int]) -> dict[int, EvaluationCampaign]:
    """Each run's newest evaluation campaign (runs without one are absent)."""
    latest: dict[int, EvaluationCampaign] = {}
    rows = EvaluationCampaign.objects.filter(run_id__in=list(run_ids)).select_related("campaign")
    for evaluation in rows.order_by("-created_at", "-id"):
        latest.setdefault(evaluation.run_id, evaluation)
    return latest
