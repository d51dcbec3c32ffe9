"""Importing comparisons: all-or-nothing, idempotent by external ids."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from django.db import transaction

from annotate.models import Campaign, Candidate, Comparison, Locale, Prompt
from annotate.services.import_rows import PromptRow, parse_jsonl
from annotate.services.locales import locales_create_missing, locales_resolve
from annotate.services.rubrics import default_rubric

PAIRING_MODES = ("all", "adjacent")


class ImportRejected(Exception):
    """The file was refused as a whole; `errors` holds one `line N: field: problem` message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    campaign: Campaign
    prompts_created: int = 0
    candidates_created: int = 0
    comparisons_created: int = 0
    rows_seen: int = 0
    locales_added: list[str] = field(default_factory=list)


def _pairs(candidates: list[Candidate], mode: str) -> list[tuple[Candidate, Candidate]]:
    pairs = itertools.combinations(candidates, 2) if mode == "all" else zip(candidates, candidates[1:], strict=False)
    return [(a, b) for a, b in pairs if a.text != b.text]


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


def _write_prompt(campaign: Campaign, row: PromptRow, locale: Locale, pairs: str, result: ImportResult) -> None:
    prompt, created = Prompt.objects.get_or_create(
        campaign=campaign,
        external_id=row.external_id,
        defaults={"locale": locale, "text": row.text, "messages": row.messages, "tags": row.tags, "source": row.source},
    )
    result.prompts_created += created
    existing = {candidate.external_id: candidate for candidate in prompt.candidates.all()}
    new = [
        Candidate(
            prompt=prompt,
            external_id=c.external_id,
            text=c.text,
            model_name=c.model_name,
            model_version=c.model_version,
            meta=c.meta,
        )
        for c in row.candidates
        if c.external_id not in existing
    ]
    Candidate.objects.bulk_create(new)
    result.candidates_created += len(new)
    by_id = {**existing, **{candidate.external_id: candidate for candidate in new}}
    ordered = [by_id[c.external_id] for c in row.candidates]
    if row.pairs is None:
        wanted = _pairs(ordered, pairs)
    else:
        wanted = [(by_id[a], by_id[b]) for a, b in row.pairs if by_id[a].text != by_id[b].text]
    already = set(Comparison.objects.filter(prompt=prompt).values_list("candidate_a_id", "candidate_b_id"))
    comparisons = [
        Comparison(campaign=campaign, prompt=prompt, candidate_a=a, candidate_b=b)
        for a, b in wanted
        if (a.pk, b.pk) not in already and (b.pk, a.pk) not in already
    ]
    Comparison.objects.bulk_create(comparisons)
    result.comparisons_created += len(comparisons)


def import_comparisons(
    *, campaign_slug: str, data: bytes, pairs: str = "all", default_locale: str | None = None
) -> ImportResult:
    """Create prompts, candidates and comparison pairs from a JSONL file, or raise ImportRejected and write nothing."""
    if pairs not in PAIRING_MODES:
        raise ImportRejected([f"line 0: pairs: must be one of {', '.join(PAIRING_MODES)}"])
    rows, errors = parse_jsonl(data, default_locale=_default_locale(campaign_slug, default_locale))
    locales, locale_errors = _check_locales(rows)
    errors = sorted(errors + locale_errors, key=lambda message: int(message.split()[1].rstrip(":")))
    if errors:
        raise ImportRejected(errors)
    with transaction.atomic():
        added = locales_create_missing(locales)
        campaign = _campaign(campaign_slug, list(locales.values()))
        result = ImportResult(campaign=campaign, rows_seen=len(rows), locales_added=added)
        for row in rows:
            _write_prompt(campaign, row, locales[row.locale], pairs, result)
    return result
