"""Storing verdicts of an AI judge run in Verdict (training's judge jobs write here; annotate never imports training).

The judge is a `JudgeIdentity` (model name, version, digest of its prompt) with its own user row, made by the same
helper as imported judges. Each verdict becomes an unpooled assignment and an AI judgment: it never holds a slot of
the human review pool. One judgment per identity and pair: a verdict for a pair the judge already judged is counted
as already present and changes nothing, so a job run again writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from annotate.models import Assignment, Campaign, Comparison, JudgeIdentity, Judgment, JudgmentSource, Outcome
from annotate.services.judging import gold_correct
from annotate.services.judgment_imports import judge_identity_user

VERDICT_OUTCOMES = (Outcome.A, Outcome.B, Outcome.TIE, Outcome.BOTH_BAD)


@dataclass(frozen=True)
class AiJudge:
    model: str
    version: str = ""
    prompt_sha256: str = ""


@dataclass(frozen=True)
class AiJudgmentsResult:
    created: int
    already_present: int
    judge_user_id: int


class AiJudgmentsRejected(ValueError):
    """Verdicts that cannot be stored (a pair of another campaign, an outcome that is no verdict)."""


def ai_judge_user(*, judge: AiJudge):
    """The user standing for the judge (created on first use; it cannot sign in)."""
    return judge_identity_user(
        source=JudgmentSource.AI,
        model_name=judge.model,
        model_version=judge.version,
        prompt_sha256=judge.prompt_sha256,
    )


@transaction.atomic
def ai_judgments_record(
    *, campaign: Campaign, judge: AiJudge, verdicts: Iterable[tuple[int, str, bool | None]]
) -> AiJudgmentsResult:
    """Store (comparison id, outcome, order consistent) verdicts of `judge` on `campaign`'s pairs, all or none."""
    verdicts = list(verdicts)
    if not judge.model:
        raise AiJudgmentsRejected("judge: needs a model name")
    bad = sorted({outcome for _, outcome, _ in verdicts} - set(VERDICT_OUTCOMES))
    if bad:
        raise AiJudgmentsRejected(f"outcome: {bad[0]!r} is not a verdict ({', '.join(VERDICT_OUTCOMES)})")
    user = ai_judge_user(judge=judge)
    # One writer per judge at a time: two jobs of the same judge would otherwise both find a pair unjudged.
    JudgeIdentity.objects.select_for_update().filter(user=user).first()
    ids = {comparison_id for comparison_id, _, _ in verdicts}
    comparisons = Comparison.objects.filter(campaign=campaign, id__in=ids).only("id", "gold_outcome").in_bulk()
    missing = sorted(ids - set(comparisons))
    if missing:
        raise AiJudgmentsRejected(f"comparison: no pair {missing[0]} in campaign '{campaign.slug}'")
    seen = set(Judgment.objects.filter(reviewer=user, comparison_id__in=ids).values_list("comparison_id", flat=True))
    now = timezone.now()
    rows = []
    for comparison_id, outcome, consistent in verdicts:
        if comparison_id in seen:
            continue
        seen.add(comparison_id)
        rows.append((comparisons[comparison_id], outcome, consistent))
    assignments = Assignment.objects.bulk_create(
        Assignment(
            reviewer=user,
            comparison=comparison,
            a_on_left=True,  # shown both ways; the first order had a on the left
            state=Assignment.State.UNPOOLED,
            leased_at=now,
            expires_at=now,
            submitted_at=now,
        )
        for comparison, _, _ in rows
    )
    Judgment.objects.bulk_create(
        Judgment(
            assignment=assignment,
            comparison=comparison,
            reviewer=user,
            outcome=outcome,
            gold_correct=gold_correct(comparison=comparison, outcome=outcome),
            created_at=now,
            source=JudgmentSource.AI,
            order_consistent=consistent,
        )
        for assignment, (comparison, outcome, consistent) in zip(assignments, rows, strict=True)
    )
    return AiJudgmentsResult(created=len(rows), already_present=len(verdicts) - len(rows), judge_user_id=user.pk)
