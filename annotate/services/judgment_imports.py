"""Importing judgments made elsewhere — by human annotators or AI judges — into a campaign's imported prompts.

One pass, in chunks of CHUNK_LINES lines, inside one transaction: each chunk is parsed, resolved against the
database (prompts, candidates, pairs, earlier judgments) and written; any problem anywhere stops the writing, the
rest of the file is still checked so that every problem is reported, and the transaction is rolled back. Memory is
bounded by a chunk, the judge identities and the first MAX_ERRORS messages, whatever the file's size.

Provenance: each annotator id and each AI judge (model, version) is a `JudgeIdentity` with its own user row that
cannot sign in, so the dashboard lists them like reviewers. Re-importing adds nothing: one judgment per identity and
pair (a unique constraint). Imported human judgments hold review slots like submitted ones (`Comparison.taken`
grows, so a full pair gets no more reviewers) but are not bounded by the overlap; an AI judge's judgment holds no
slot at all (its assignment is `unpooled`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from annotate import sources
from annotate.models import (
    Assignment,
    Campaign,
    Candidate,
    Comparison,
    JudgeIdentity,
    Judgment,
    JudgmentSource,
    Outcome,
)
from annotate.services.importing import ImportRejected
from annotate.services.judging import gold_correct, validate_ratings
from annotate.services.judgment_lines import ErrorLog, JudgmentLine, iter_judgment_lines

CHUNK_LINES = 5000
_FLIPPED = {Outcome.A: Outcome.B, Outcome.B: Outcome.A}


@dataclass
class JudgmentImportResult:
    campaign: Campaign
    lines: int = 0
    judgments_created: int = 0
    already_present: int = 0
    comparisons_created: int = 0
    by_source: Counter = field(default_factory=Counter)  # judgments created per source

    def as_dict(self) -> dict:
        return {
            "campaign": self.campaign.slug,
            "lines": self.lines,
            "judgments_created": self.judgments_created,
            "already_present": self.already_present,
            "comparisons_created": self.comparisons_created,
            "by_source": dict(sorted(self.by_source.items())),
        }


def _username(prefix: str, readable: str, key: str) -> str:
    """`prefix:readable`; hashed when too long or taken (model "a@b" and model "a" version "b" read alike).
    The colon keeps these apart from people: Django's username validator refuses it in real accounts."""
    name = f"{prefix}:{readable}"
    if len(name) <= 150 and not get_user_model().objects.filter(username=name).exists():
        return name
    return f"{name[:125]}~{hashlib.sha256(key.encode()).hexdigest()[:16]}"


@transaction.atomic
def judge_identity_user(
    *, source: str, external_id: str = "", model_name: str = "", model_version: str = "", prompt_sha256: str = ""
) -> AbstractBaseUser:
    """The user standing for an imported annotator or an AI judge, created on first use; it cannot sign in."""
    key = {
        "source": source,
        "external_id": external_id,
        "model_name": model_name,
        "model_version": model_version,
        "prompt_sha256": prompt_sha256,
    }
    identity = JudgeIdentity.objects.select_related("user").filter(**key).first()
    if identity is not None:
        return identity.user
    if source == JudgmentSource.IMPORTED:
        username = _username("annotator", external_id, external_id)
    else:
        readable = model_name + (f"@{model_version}" if model_version else "")
        readable += f"#{prompt_sha256[:12]}" if prompt_sha256 else ""
        username = _username("judge", readable, "\0".join(key.values()))
    user = get_user_model()(username=username, is_active=False)
    user.set_unusable_password()
    user.save()
    JudgeIdentity.objects.create(user=user, **key)
    return user


def _chunks(lines: Iterator[JudgmentLine]) -> Iterator[list[JudgmentLine]]:
    while chunk := list(islice(lines, CHUNK_LINES)):
        yield chunk


@dataclass
class _Resolved:
    line: JudgmentLine
    reviewer_id: int
    candidate_a: int
    candidate_b: int
    prompt_id: int
    ratings: dict


class _Row(NamedTuple):
    """One judgment to store with its assignment, in the pair's terms."""

    reviewer_id: int
    comparison_id: int
    a_on_left: bool
    state: str
    moment: datetime
    outcome: str
    strength: str
    ratings: dict
    critique: str
    gold_correct: bool | None
    source: str


def _insert_orm(rows: list[_Row]) -> None:
    assignments = Assignment.objects.bulk_create(
        Assignment(
            reviewer_id=row.reviewer_id,
            comparison_id=row.comparison_id,
            a_on_left=row.a_on_left,
            state=row.state,
            leased_at=row.moment,
            expires_at=row.moment,
            submitted_at=row.moment,
        )
        for row in rows
    )
    Judgment.objects.bulk_create(
        Judgment(
            assignment_id=assignment.pk,
            comparison_id=row.comparison_id,
            reviewer_id=row.reviewer_id,
            outcome=row.outcome,
            strength=row.strength,
            ratings=row.ratings,
            critique=row.critique,
            gold_correct=row.gold_correct,
            created_at=row.moment,
            source=row.source,
        )
        for row, assignment in zip(rows, assignments, strict=True)
    )


# PostgreSQL: a chunk's assignments and judgments in one statement from column arrays (the ORM's bulk_create spends
# most of an import compiling per-object SQL). Judgments find their assignment by (reviewer, comparison), unique in a
# chunk since repeats were dropped before.
_INSERT_SQL = f"""
WITH batch AS (
    SELECT * FROM unnest(
        %(reviewer_id)s::int8[], %(comparison_id)s::int8[], %(a_on_left)s::bool[], %(state)s::text[],
        %(moment)s::timestamptz[], %(outcome)s::text[], %(strength)s::text[], %(ratings)s::text[]::jsonb[],
        %(critique)s::text[], %(gold_correct)s::bool[], %(source)s::text[]
    ) AS row (reviewer_id, comparison_id, a_on_left, state, moment, outcome, strength, ratings, critique,
              gold_correct, source)
), held AS (
    INSERT INTO {Assignment._meta.db_table}
        (reviewer_id, comparison_id, a_on_left, state, leased_at, expires_at, submitted_at)
    SELECT reviewer_id, comparison_id, a_on_left, state, moment, moment, moment FROM batch
    RETURNING id, reviewer_id, comparison_id
)
INSERT INTO {Judgment._meta.db_table} (assignment_id, comparison_id, reviewer_id, outcome, strength, ratings, critique,
    time_taken_ms, gold_correct, created_at, source)
SELECT held.id, batch.comparison_id, batch.reviewer_id, batch.outcome, batch.strength, batch.ratings, batch.critique,
    0, batch.gold_correct, batch.moment, batch.source
FROM batch JOIN held USING (reviewer_id, comparison_id)
"""


def _insert_postgresql(rows: list[_Row]) -> None:
    if not rows:
        return
    columns = {name: list(values) for name, values in zip(_Row._fields, zip(*rows, strict=True), strict=True)}
    columns["ratings"] = [json.dumps(ratings) for ratings in columns["ratings"]]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL, columns)


class _Importer:
    def __init__(self, campaign: Campaign, errors: ErrorLog) -> None:
        self.campaign = campaign
        self.errors = errors
        self.result = JudgmentImportResult(campaign=campaign)
        self.identities: dict[tuple[str, str, str], int] = {}

    def _reviewer_id(self, line: JudgmentLine) -> int:
        key = (line.annotator, line.judge_model, line.judge_version)
        if key not in self.identities:
            if line.is_ai:
                user = judge_identity_user(
                    source=JudgmentSource.AI, model_name=line.judge_model, model_version=line.judge_version
                )
            else:
                user = judge_identity_user(source=JudgmentSource.IMPORTED, external_id=line.annotator)
            self.identities[key] = user.pk
        return self.identities[key]

    def _ratings(self, line: JudgmentLine) -> dict | None:
        """Ratings in line terms, checked against the rubric (None after reporting a problem)."""
        if not line.ratings:
            return {}
        given = {"left": line.ratings.get("a") or {}, "right": line.ratings.get("b") or {}}
        clean, problems = validate_ratings(rubric=self.campaign.rubric, ratings=given)
        for name, problem in problems.items():
            name = name.replace("ratings.left", "ratings.a").replace("ratings.right", "ratings.b")
            self.errors.add(f"line {line.line}: {name}: {problem}")
        return None if problems else {"a": clean.get("left", {}), "b": clean.get("right", {})}

    def resolve(self, chunk: list[JudgmentLine]) -> list[_Resolved]:
        """The chunk's lines with database ids, reporting lines that name unknown prompts or candidates."""
        candidates: dict[tuple[str, str], tuple[int, int]] = {}
        rows = Candidate.objects.filter(
            prompt__campaign=self.campaign, prompt__external_id__in={line.prompt_id for line in chunk}
        ).values_list("prompt__external_id", "external_id", "id", "prompt_id")
        for prompt_external_id, external_id, candidate_id, prompt_id in rows:
            candidates[(prompt_external_id, external_id)] = (candidate_id, prompt_id)
        prompts = {prompt for prompt, _ in candidates}
        resolved = []
        for line in chunk:
            if line.prompt_id not in prompts:
                self.errors.add(f"line {line.line}: prompt_id: no prompt '{line.prompt_id}' in '{self.campaign.slug}'")
                continue
            missing = [side for side in ("a", "b") if (line.prompt_id, getattr(line, side)) not in candidates]
            for side in missing:
                self.errors.add(
                    f"line {line.line}: {side}: no candidate '{getattr(line, side)}' under prompt '{line.prompt_id}'"
                )
            ratings = self._ratings(line)
            if missing or ratings is None:
                continue
            (a_id, prompt_id), (b_id, _) = candidates[(line.prompt_id, line.a)], candidates[(line.prompt_id, line.b)]
            resolved.append(_Resolved(line, self._reviewer_id(line), a_id, b_id, prompt_id, ratings))
        return resolved

    def _comparisons(self, resolved: list[_Resolved]) -> dict[frozenset, Comparison]:
        """Each pair's comparison (either order), creating the missing ones with the first line's order."""
        existing = Comparison.objects.filter(prompt_id__in={r.prompt_id for r in resolved}).only(
            "id", "candidate_a_id", "candidate_b_id", "gold_outcome"
        )
        by_pair = {frozenset((c.candidate_a_id, c.candidate_b_id)): c for c in existing}
        new: dict[frozenset, Comparison] = {}
        for r in resolved:
            pair = frozenset((r.candidate_a, r.candidate_b))
            if pair not in by_pair and pair not in new:
                new[pair] = Comparison(
                    campaign=self.campaign,
                    prompt_id=r.prompt_id,
                    candidate_a_id=r.candidate_a,
                    candidate_b_id=r.candidate_b,
                )
        Comparison.objects.bulk_create(new.values())
        self.result.comparisons_created += len(new)
        return by_pair | new

    def write(self, resolved: list[_Resolved]) -> None:
        comparisons = self._comparisons(resolved)
        reviewers = {r.reviewer_id for r in resolved}
        ids = {c.pk for c in comparisons.values()}
        # Earlier chunks of this file are in the same transaction: a repeat inside the file is found here too.
        seen = set(
            Judgment.objects.filter(comparison_id__in=ids, reviewer_id__in=reviewers)
            .exclude(source=JudgmentSource.REVIEWER)
            .values_list("comparison_id", "reviewer_id")
        )
        now = timezone.now()
        rows: list[_Row] = []
        held: Counter = Counter()
        for r in resolved:
            comparison = comparisons[frozenset((r.candidate_a, r.candidate_b))]
            if (comparison.pk, r.reviewer_id) in seen:
                self.result.already_present += 1
                continue
            seen.add((comparison.pk, r.reviewer_id))
            line = r.line
            a_first = comparison.candidate_a_id == r.candidate_a  # the line's a was shown first (left)
            outcome = line.outcome if a_first else _FLIPPED.get(line.outcome, line.outcome)
            ratings = r.ratings if a_first or not r.ratings else {"a": r.ratings["b"], "b": r.ratings["a"]}
            source = sources.AI if line.is_ai else sources.IMPORTED
            rows.append(
                _Row(
                    reviewer_id=r.reviewer_id,
                    comparison_id=comparison.pk,
                    a_on_left=a_first,
                    state=Assignment.State.UNPOOLED if line.is_ai else Assignment.State.SUBMITTED,
                    moment=line.created_at or now,
                    outcome=outcome,
                    strength=line.strength,
                    ratings=ratings if any(ratings.values()) else {},
                    critique=line.critique,
                    gold_correct=gold_correct(comparison=comparison, outcome=outcome),
                    source=source,
                )
            )
            self.result.by_source[source] += 1
            if not line.is_ai:
                held[comparison.pk] += 1
        if connection.vendor == "postgresql":
            _insert_postgresql(rows)
        else:
            _insert_orm(rows)
        self.result.judgments_created += len(rows)
        by_count: dict[int, list[int]] = {}
        for comparison_id, count in held.items():
            by_count.setdefault(count, []).append(comparison_id)
        for count, comparison_ids in by_count.items():
            Comparison.objects.filter(pk__in=comparison_ids).update(taken=F("taken") + count)


def import_judgments(*, campaign_slug: str, lines: Iterable[bytes]) -> JudgmentImportResult:
    """Store every judgment of a JSONL file (bytes lines, streamed), or raise ImportRejected and store nothing."""
    campaign = Campaign.objects.select_related("rubric").filter(slug=campaign_slug).first()
    if campaign is None:
        raise ImportRejected([f"line 0: campaign: no campaign '{campaign_slug}' (import its prompts first)"])
    errors = ErrorLog()
    with transaction.atomic():
        importer = _Importer(campaign, errors)
        parsed = iter_judgment_lines(lines, errors)
        for chunk in _chunks(parsed):
            importer.result.lines += len(chunk)
            resolved = importer.resolve(chunk)
            if not errors:
                importer.write(resolved)
        if not errors and not importer.result.lines:
            errors.add("line 1: file: no judgments to import")
        if errors:
            raise ImportRejected(errors.messages)  # rolls back everything written so far
    return importer.result
