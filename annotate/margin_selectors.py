"""Reads for pair difficulty: which answers a reference model has scored, and each pair's implicit margin.

A pair's margin under a reference model is logp(majority's answer) − logp(other answer); here it is given from A's
side (logp(A) − logp(B)) and the export flips its sign when B won. Summed, it grows with length; per token (the
difference of the two answers' per-token means) it does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from annotate.models import Candidate, CandidateLogProb, Comparison, Prompt


@dataclass(frozen=True)
class PairMargin:
    """logp(A) − logp(B) under one reference model, summed and per token."""

    sum: float
    per_token: float

    def for_winner(self, outcome: str) -> PairMargin:
        """The margin of the majority's answer over the other (outcome "a" or "b")."""
        return self if outcome == "a" else PairMargin(sum=-self.sum, per_token=-self.per_token)


def paired_candidates(*, campaign_id: int) -> QuerySet[Candidate]:
    """The campaign's candidates that appear in at least one of its pairs, in id order."""
    in_pairs = Comparison.objects.filter(campaign_id=campaign_id)
    either_side = Q(id__in=in_pairs.values("candidate_a_id")) | Q(id__in=in_pairs.values("candidate_b_id"))
    return Candidate.objects.filter(either_side, prompt__campaign_id=campaign_id).order_by("id")


def candidates_to_score(*, campaign_id: int, model_digest: str) -> QuerySet[Candidate]:
    """The campaign's paired candidates with no log-prob under this digest yet, in id order, with their prompts."""
    scored = CandidateLogProb.objects.filter(model_digest=model_digest).values("candidate_id")
    return paired_candidates(campaign_id=campaign_id).exclude(id__in=scored).select_related("prompt")


def campaign_has_chat_prompts(*, campaign_id: int) -> bool:
    """Whether any prompt of the campaign is a chat (scoring it needs a model with a chat template)."""
    return Prompt.objects.filter(campaign_id=campaign_id, messages__isnull=False).exclude(messages=[]).exists()


def reference_models() -> list[dict]:
    """Every model digest with scored answers: [{digest, name, answers}], most answers first (the export's choice)."""
    rows = (
        CandidateLogProb.objects.values("model_digest")
        .annotate(name=Max("model_name"), answers=Count("id"))
        .order_by("-answers", "model_digest")
    )
    return [{"digest": r["model_digest"], "name": r["name"], "answers": r["answers"]} for r in rows]


def pair_margins(*, pairs: Iterable[tuple[int, int, int]], model_digest: str) -> dict[int, PairMargin]:
    """For (comparison id, candidate A id, candidate B id) triples: comparison id → margin, for pairs whose two
    answers are both scored under the digest (the others are absent: unscored)."""
    pairs = list(pairs)
    candidate_ids = {c for _, a, b in pairs for c in (a, b)}
    scores = {
        candidate_id: (logp, tokens)
        for candidate_id, logp, tokens in CandidateLogProb.objects.filter(
            model_digest=model_digest, candidate_id__in=candidate_ids
        ).values_list("candidate_id", "logprob_sum", "tokens")
    }
    margins = {}
    for comparison_id, a, b in pairs:
        if a in scores and b in scores:
            (logp_a, tokens_a), (logp_b, tokens_b) = scores[a], scores[b]
            per_token = logp_a / max(tokens_a, 1) - logp_b / max(tokens_b, 1)
            margins[comparison_id] = PairMargin(sum=logp_a - logp_b, per_token=per_token)
    return margins
