"""Storing answer log-probs under a reference model (the margin job's results): idempotent, in one transaction.

The job that computes them runs models, so it lives on the training side and writes through here; annotate never
imports training.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from annotate.models import CandidateLogProb

MAX_DIGEST_LENGTH = 64


@dataclass(frozen=True)
class LogProbResult:
    candidate_id: int
    logprob_sum: float
    tokens: int


def candidate_logprobs_store(*, model_digest: str, model_name: str, results: Iterable[LogProbResult]) -> int:
    """Record each candidate's log-prob under the model; a candidate already scored for this digest is left as it
    was (same digest, same model: the same number). Returns how many rows were new."""
    if not model_digest or len(model_digest) > MAX_DIGEST_LENGTH:
        raise ValueError(f"model_digest: expected 1 to {MAX_DIGEST_LENGTH} characters, got {model_digest!r:.80}")
    rows = []
    for result in results:
        if not math.isfinite(result.logprob_sum) or result.tokens < 0:
            raise ValueError(f"candidate {result.candidate_id}: not a log-prob ({result.logprob_sum}, {result.tokens})")
        rows.append(
            CandidateLogProb(
                candidate_id=result.candidate_id,
                model_digest=model_digest,
                model_name=model_name[:200],
                logprob_sum=result.logprob_sum,
                tokens=result.tokens,
            )
        )
    if not rows:
        return 0
    with transaction.atomic():
        before = CandidateLogProb.objects.filter(model_digest=model_digest).count()
        CandidateLogProb.objects.bulk_create(rows, ignore_conflicts=True)
        return CandidateLogProb.objects.filter(model_digest=model_digest).count() - before
