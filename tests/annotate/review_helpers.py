"""Small builders shared by the reviewer-workflow tests."""

from __future__ import annotations

from annotate.models import Campaign, Comparison, Locale
from tests.factories import CampaignFactory, ComparisonFactory, LocaleFactory, PromptFactory, RubricFactory


def campaign_with_pairs(
    n: int = 3, *, overlap: int = 2, locale: str = "en-US", gold: int = 0, gold_rate: float = 0.0, **kwargs
) -> tuple[Campaign, list[Comparison]]:
    """A campaign in one locale with n regular pairs (one prompt each) and `gold` gold pairs answered "a"."""
    loc: Locale = LocaleFactory(code=locale)
    campaign = CampaignFactory(locales=[loc], overlap=overlap, gold_rate=gold_rate, **kwargs)
    pairs = [ComparisonFactory(prompt=PromptFactory(campaign=campaign, locale=loc)) for _ in range(n)]
    pairs += [
        ComparisonFactory(prompt=PromptFactory(campaign=campaign, locale=loc), gold_outcome="a") for _ in range(gold)
    ]
    return campaign, pairs


def rubric_with(*criteria: dict):
    return RubricFactory(criteria=list(criteria))
