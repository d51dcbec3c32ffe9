"""Importing comparisons: all-or-nothing, idempotent by external ids."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.db import transaction

from annotate.models import Campaign, Candidate, Comparison, Locale, Prompt
from annotate.services.import_rows import PromptRow, RowRules, parse_jsonl
from annotate.services.rubrics import default_rubric

# across-models: each of a row's candidates against the prompt's stored candidates of other models (never two of one
# model), so importing model B's answers after model A's makes the A-vs-B pairs.
PAIRING_MODES = ("all", "adjacent", "across-models")


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


def _check_locales(rows: list[PromptRow]) -> tuple[dict[str, Locale], list[str]]:
    known = {locale.code: locale for locale in Locale.objects.filter(code__in={row.locale for row in rows})}
    errors = [
        f"line {row.line}: locale: unknown locale '{row.locale}' (add it in the admin first)"
        for row in rows
        if row.locale not in known
    ]
    return known, errors


def _campaign(slug: str, locales: list[Locale]) -> Campaign:
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        campaign = Campaign.objects.create(slug=slug, name=slug.replace("-", " ").title(), rubric=default_rubric())
    campaign.locales.add(*locales)
    return campaign


def _write_prompt(
    campaign: Campaign, row: PromptRow, locale: Locale, pairs: str, result: ImportResult, collapse: bool = False
) -> None:
    prompt, created = Prompt.objects.get_or_create(
        campaign=campaign,
        external_id=row.external_id,
        defaults={"locale": locale, "text": row.text, "messages": row.messages, "tags": row.tags, "source": row.source},
    )
    result.prompts_created += created
    existing = {candidate.external_id: candidate for candidate in prompt.candidates.all()}
    if collapse:  # a sample identical to one its model already has on this prompt is that candidate
        same = {(c.model_name, c.text): c for c in reversed(existing.values())}
        existing |= {
            c.external_id: same[c.model_name, c.text] for c in row.candidates if (c.model_name, c.text) in same
        }
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
    already = set(Comparison.objects.filter(prompt=prompt).values_list("candidate_a_id", "candidate_b_id"))
    comparisons = [
        Comparison(campaign=campaign, prompt=prompt, candidate_a=a, candidate_b=b)
        for a, b in _pairs(ordered, pairs, list({c.pk: c for c in by_id.values()}.values()))
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
    rules = RowRules(allow_empty=allow_empty, allow_identical=allow_identical, across_models=pairs == "across-models")
    rows, errors = parse_jsonl(data, default_locale=default_locale, rules=rules)
    locales, locale_errors = _check_locales(rows)
    errors = sorted(errors + locale_errors, key=lambda message: int(message.split()[1].rstrip(":")))
    if errors:
        raise ImportRejected(errors)
    with transaction.atomic():
        campaign = _campaign(campaign_slug, list(locales.values()))
        result = ImportResult(campaign=campaign, rows_seen=len(rows))
        for row in rows:
            _write_prompt(campaign, row, locales[row.locale], pairs, result, collapse=allow_identical)
    return result
