"""Reading what an export needs, in bounded memory: pairs with their judgments, flags, reviewer reliability.

Comparisons are read in id order in chunks (keyset pagination), each chunk with its judgments; nothing holds every
row. The whole export reads inside one `annotate.db.repeatable_read()` transaction, so every pass sees the same data.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Q

from annotate.export_policy import Vote, content_key, majority, reliability_scores, tally
from annotate.models import Comparison, Judgment, Prompt, ReviewerFlag
from annotate.sources import HUMAN_SOURCES

CHUNK_SIZE = 2000

_COMPARISON_FIELDS = (
    "id",
    "campaign_id",
    "gold_outcome",
    "prompt__external_id",
    "prompt__text",
    "prompt__messages",
    "prompt__tags",
    "prompt__locale__code",
    "candidate_a_id",
    "candidate_b_id",
    "candidate_a__text",
    "candidate_a__model_name",
    "candidate_a__model_version",
    "candidate_b__text",
    "candidate_b__model_name",
    "candidate_b__model_version",
)
_JUDGMENT_FIELDS = ("id", "comparison_id", "reviewer_id", "outcome", "strength", "resolution__decision", "source")


@dataclass
class Pair:
    """One comparison with its judgments, as read from the database."""

    row: dict[str, Any]
    judgments: list[tuple] = field(default_factory=list)  # the judgments of the sources asked for
    by_source: Counter = field(default_factory=Counter)  # every judgment of the pair, per source

    @cached_property
    def prompt_key(self) -> str:
        messages = self.row["prompt__messages"]
        if messages:
            return content_key("messages", json.dumps(messages, sort_keys=True, ensure_ascii=False))
        return content_key("text", self.row["prompt__text"])


def iter_pairs(
    campaign_ids: Sequence[int], chunk_size: int = CHUNK_SIZE, sources: Sequence[str] = HUMAN_SOURCES
) -> Iterator[Pair]:
    """Every comparison of the campaigns in id order, with its judgments from `sources` in id order (the others only
    counted), one chunk in memory at a time."""
    last_id = 0
    while True:
        rows = list(
            Comparison.objects.filter(campaign_id__in=campaign_ids, id__gt=last_id)
            .order_by("id")
            .values(*_COMPARISON_FIELDS)[:chunk_size]
        )
        if not rows:
            return
        pairs = {row["id"]: Pair(row=row) for row in rows}
        judgments = (
            Judgment.objects.filter(comparison_id__gte=rows[0]["id"], comparison_id__lte=rows[-1]["id"])
            .order_by("comparison_id", "id")
            .values_list(*_JUDGMENT_FIELDS)
        )
        for judgment in judgments.iterator(chunk_size=chunk_size * 4):
            pair = pairs.get(judgment[1])
            if pair is not None:  # the id range may hold other campaigns' comparisons
                pair.by_source[judgment[-1]] += 1
                if judgment[-1] in sources:
                    pair.judgments.append(judgment[:-1])
        yield from pairs.values()
        last_id = rows[-1]["id"]


def active_flags(campaign_ids: Sequence[int]) -> set[tuple[int, int | None]]:
    flags = ReviewerFlag.objects.filter(active=True).filter(Q(campaign__isnull=True) | Q(campaign_id__in=campaign_ids))
    return set(flags.values_list("reviewer_id", "campaign_id"))


def count_votes(pair: Pair, flags: set[tuple[int, int | None]]) -> tuple[list[Vote], int, bool]:
    """The pair's counted votes, how many flagged judgments were dropped, and whether an escalation blocks it."""
    votes: list[Vote] = []
    dropped, escalated = 0, False
    campaign_id = pair.row["campaign_id"]
    for judgment_id, _, reviewer_id, outcome, strength, resolution in pair.judgments:
        if (reviewer_id, None) in flags or (reviewer_id, campaign_id) in flags:
            dropped += 1
            continue
        if outcome == "escalate":
            # A lead's resolution replaces the escalation's vote; no resolution or "discard" keeps the pair out.
            if resolution in (None, "discard"):
                escalated = True
                continue
            outcome = resolution
        votes.append(Vote(judgment_id=judgment_id, reviewer_id=reviewer_id, outcome=outcome, strength=strength or ""))
    return votes, dropped, escalated


def reviewer_reliability(
    campaign_ids: Sequence[int], flags: set[tuple[int, int | None]], sources: Sequence[str] = HUMAN_SOURCES
) -> dict[int, float]:
    """Gold accuracy per reviewer where they judged gold pairs, else agreement with the plain majority (judgments
    from `sources` only)."""
    gold: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    gold_rows = (
        Judgment.objects.filter(comparison__campaign_id__in=campaign_ids, source__in=sources)
        .exclude(comparison__gold_outcome="")
        .values_list("reviewer_id", "outcome", "comparison__gold_outcome", "gold_correct")
    )
    for reviewer_id, outcome, gold_outcome, gold_correct in gold_rows.iterator(chunk_size=CHUNK_SIZE):
        correct = gold_correct if gold_correct is not None else outcome == gold_outcome
        gold[reviewer_id][0] += int(correct)
        gold[reviewer_id][1] += 1
    agreement: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pair in iter_pairs(campaign_ids, sources=sources):
        if pair.row["gold_outcome"]:
            continue
        votes, _, _ = count_votes(pair, flags)
        winner = majority(tally(votes)) if len(votes) > 1 else None
        if winner is None:
            continue
        for vote in votes:
            agreement[vote.reviewer_id][0] += int(vote.outcome == winner)
            agreement[vote.reviewer_id][1] += 1
    return reliability_scores({r: (h, t) for r, (h, t) in gold.items()}, {r: (h, t) for r, (h, t) in agreement.items()})


def has_conversations(campaign_ids: Sequence[int]) -> bool:
    """Whether any prompt is a chat: then every row is written conversationally, as TRL wants one format per file."""
    prompts = Prompt.objects.filter(campaign_id__in=campaign_ids, messages__isnull=False).exclude(messages=[])
    return prompts.exists()
