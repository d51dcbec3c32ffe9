"""Importing comparisons: all-or-nothing, idempotent by external ids."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from annotate.models import Campaign, Candidate, Comparison, Locale, Prompt
from annotate.services.import_rows import PromptRow, RowRules, parse_jsonl
from annotate.services.locales import locales_create_missing, locales_resolve
from annotate.services.rubrics import default_rubric

# across-models: each of a row's candidates against the prompt's stored candidates of other models (never two of one
# model), so importing model B's answers after model A's makes the A-vs-B pairs.
PAIRING_MODES = ("all", "adjacent", "across-models")
# Rows written per batch of queries; an id list per query stays under SQLite's 32,766 parameters.
BATCH_ROWS = 500
MAX_SLUG_LENGTH = Campaign._meta.get_field("slug").max_length


class ImportRejected(Exception):
    """The file was refused as a whole; `errors` holds one `line N: field: problem` message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def import_size_problem(size: int) -> str | None:
    """Why a file of `size` bytes is refused before it is read (pages and API; the commands stream any size)."""
    limit = settings.IMPORT_MAX_BYTES
    if size <= limit:
        return None
    return (
        f"the file is {size / 2**20:,.1f} MB, over the {limit / 2**20:,.1f} MB limit for uploads "
        "(IMPORT_MAX_BYTES); split it, or use manage.py import_comparisons"
    )


@dataclass
class ImportResult:
    campaign: Campaign
    prompts_created: int = 0
    candidates_created: int = 0
    comparisons_created: int = 0
    rows_seen: int = 0
    locales_added: list[str] = field(default_factory=list)


def _across_models(row: list[Candidate], stored: list[Candidate]) -> list[tuple[Candidate, Candidate]]:
    pairs, seen = [], set()
    for a in row:
        for b in stored:
            key = frozenset((a.pk, b.pk))
            if a.model_name != b.model_name and key not in seen:
                seen.add(key)
                pairs.append((b, a) if b.pk < a.pk else (a, b))
    return pairs


def _pairs(candidates: list[Candidate], mode: str, stored: list[Candidate]) -> list[tuple[Candidate, Candidate]]:
    """The pairs to judge; identical texts never make one (nothing to choose: the evaluation counts them as ties)."""
    if mode == "across-models":
        pairs = _across_models(candidates, stored)
    elif mode == "all":
        pairs = itertools.combinations(candidates, 2)
    else:
        pairs = zip(candidates, candidates[1:], strict=False)
    return [(a, b) for a, b in pairs if a.text != b.text]


def _by_prompt(candidates: dict[tuple[int, str], Candidate]) -> dict[int, list[Candidate]]:
    """Each prompt's stored candidates (this batch's included), each once, oldest first: what across-models pairs with."""
    grouped: dict[int, dict[int, Candidate]] = {}
    for (prompt_id, _), candidate in candidates.items():
        grouped.setdefault(prompt_id, {})[candidate.pk] = candidate
    return {prompt_id: sorted(found.values(), key=lambda c: c.pk) for prompt_id, found in grouped.items()}


def _check_locales(rows: list[PromptRow]) -> tuple[dict[str, Locale | None], list[str]]:
    """Known locales, well-formed new ones (None: created with the import) and a message per malformed one."""
    found, problems = locales_resolve(row.locale for row in rows)
    errors = [f"line {row.line}: locale: {problems[row.locale]}" for row in rows if row.locale in problems]
    return found, errors


def _default_locale(campaign_slug: str, given: str | None) -> str | None:
    """The locale for rows that name none: the one given, else the campaign's when it has exactly one."""
    if given:
        return given
    codes = list(Locale.objects.filter(campaigns__slug=campaign_slug).values_list("code", flat=True)[:2])
    return codes[0] if len(codes) == 1 else None


def _campaign(slug: str, locales: list[Locale]) -> Campaign:
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        campaign = Campaign.objects.create(slug=slug, name=slug.replace("-", " ").title(), rubric=default_rubric())
    campaign.locales.add(*locales)
    return campaign


def _write_batch(
    campaign: Campaign,
    rows: list[PromptRow],
    locales: dict[str, Locale],
    pairs: str,
    result: ImportResult,
    collapse: bool = False,
) -> None:
    """Prompts, candidates and pairs for a batch of rows in a few queries each (not a few per row): the import holds
    the write lock throughout, and on SQLite every reviewer waits for it."""
    prompts = {
        p.external_id: p
        for p in Prompt.objects.filter(campaign=campaign, external_id__in=[r.external_id for r in rows])
    }
    new_prompts = [
        Prompt(
            campaign=campaign,
            external_id=row.external_id,
            locale=locales[row.locale],
            text=row.text,
            messages=row.messages,
            tags=row.tags,
            source=row.source,
        )
        for row in rows
        if row.external_id not in prompts
    ]
    Prompt.objects.bulk_create(new_prompts)  # ids come back (RETURNING) on PostgreSQL and SQLite ≥ 3.35
    result.prompts_created += len(new_prompts)
    prompts.update((prompt.external_id, prompt) for prompt in new_prompts)
    ids = [prompt.pk for prompt in prompts.values()]
    stored = list(Candidate.objects.filter(prompt_id__in=ids))
    candidates = {(c.prompt_id, c.external_id): c for c in stored}
    if collapse:  # a sample identical to one its model already has on this prompt is that candidate
        same = {(c.prompt_id, c.model_name, c.text): c for c in reversed(stored)}
        for row in rows:
            prompt = prompts[row.external_id]
            for c in row.candidates:
                if (prompt.pk, c.model_name, c.text) in same:
                    candidates[prompt.pk, c.external_id] = same[prompt.pk, c.model_name, c.text]
    new_candidates = [
        Candidate(
            prompt=prompts[row.external_id],
            external_id=c.external_id,
            text=c.text,
            model_name=c.model_name,
            model_version=c.model_version,
            meta=c.meta,
        )
        for row in rows
        for c in row.candidates
        if (prompts[row.external_id].pk, c.external_id) not in candidates
    ]
    Candidate.objects.bulk_create(new_candidates)
    result.candidates_created += len(new_candidates)
    candidates.update(((c.prompt_id, c.external_id), c) for c in new_candidates)
    already = set(Comparison.objects.filter(prompt_id__in=ids).values_list("candidate_a_id", "candidate_b_id"))
    stored_of = _by_prompt(candidates)
    comparisons = []
    for row in rows:
        prompt = prompts[row.external_id]
        ordered = [candidates[prompt.pk, c.external_id] for c in row.candidates]
        if row.pairs is None:
            wanted = _pairs(ordered, pairs, stored_of[prompt.pk])
        else:  # the row lists its pairs
            by_id = {candidate.external_id: candidate for candidate in ordered}
            wanted = [(by_id[a], by_id[b]) for a, b in row.pairs if by_id[a].text != by_id[b].text]
        comparisons += [
            Comparison(campaign=campaign, prompt=prompt, candidate_a=a, candidate_b=b)
            for a, b in wanted
            if (a.pk, b.pk) not in already and (b.pk, a.pk) not in already
        ]
    Comparison.objects.bulk_create(comparisons)
    result.comparisons_created += len(comparisons)


def import_comparisons(
    *,
    campaign_slug: str,
    data: bytes,
    pairs: str = "all",
    default_locale: str | None = None,
    allow_empty: bool = False,
    allow_identical: bool = False,
) -> ImportResult:
    """Create prompts, candidates and comparison pairs from a JSONL file, or raise ImportRejected and write nothing.

    Generated answers need the options: a model may stop at once (`allow_empty`: an empty answer is data) or say the
    same thing twice (`allow_identical`: one model's identical samples become one candidate).
    """
    if pairs not in PAIRING_MODES:
        raise ImportRejected([f"line 0: pairs: must be one of {', '.join(PAIRING_MODES)}"])
    if len(campaign_slug) > MAX_SLUG_LENGTH:
        raise ImportRejected([f"line 0: campaign: longer than {MAX_SLUG_LENGTH} characters"])
    rules = RowRules(allow_empty=allow_empty, allow_identical=allow_identical, across_models=pairs == "across-models")
    rows, errors = parse_jsonl(data, default_locale=_default_locale(campaign_slug, default_locale), rules=rules)
    locales, locale_errors = _check_locales(rows)
    errors = sorted(errors + locale_errors, key=lambda message: int(message.split()[1].rstrip(":")))
    if errors:
        raise ImportRejected(errors)
    with transaction.atomic():
        added = locales_create_missing(locales)
        campaign = _campaign(campaign_slug, list(locales.values()))
        result = ImportResult(campaign=campaign, rows_seen=len(rows), locales_added=added)
        for first in range(0, len(rows), BATCH_ROWS):
            _write_batch(campaign, rows[first : first + BATCH_ROWS], locales, pairs, result, collapse=allow_identical)
    return result
