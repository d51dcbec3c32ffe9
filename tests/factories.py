"""factory_boy factories for every model a test needs; personas live in conftest.py."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from annotate import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])


class LocaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Locale
        django_get_or_create = ("code",)

    code = "en-US"


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Qualification

    reviewer = factory.SubFactory(UserFactory)
    locale = factory.SubFactory(LocaleFactory)


class RubricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Rubric

    slug = factory.Sequence(lambda n: f"rubric-{n}")
    title = "Test rubric"
    guidelines = "Pick the better answer."
    criteria = factory.LazyFunction(
        lambda: [{"key": "overall", "label": "Overall", "description": "Overall quality", "scale": 5}]
    )


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Campaign

    slug = factory.Sequence(lambda n: f"campaign-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())
    rubric = factory.SubFactory(RubricFactory)
    overlap = 3

    @factory.post_generation
    def locales(self, create: bool, extracted, **kwargs) -> None:
        if create:
            self.locales.add(*(extracted or [LocaleFactory()]))


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Prompt

    campaign = factory.SubFactory(CampaignFactory)
    external_id = factory.Sequence(lambda n: f"p{n}")
    locale = factory.LazyAttribute(lambda o: o.campaign.locales.first() or LocaleFactory())
    text = factory.Sequence(lambda n: f"Question number {n}?")
    tags = factory.LazyFunction(lambda: {"scenario": "factual"})


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Candidate

    prompt = factory.SubFactory(PromptFactory)
    external_id = factory.Sequence(lambda n: f"c{n}")
    text = factory.Sequence(lambda n: f"Answer number {n}.")
    model_name = "atlas"
    model_version = "v1"


class ComparisonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Comparison

    prompt = factory.SubFactory(PromptFactory)
    campaign = factory.LazyAttribute(lambda o: o.prompt.campaign)
    candidate_a = factory.LazyAttribute(lambda o: CandidateFactory(prompt=o.prompt))
    candidate_b = factory.LazyAttribute(lambda o: CandidateFactory(prompt=o.prompt, model_name="borealis"))


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Assignment

    reviewer = factory.SubFactory(UserFactory, role="reviewer")
    comparison = factory.SubFactory(ComparisonFactory)
    a_on_left = True
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))


class JudgmentFactory(factory.django.DjangoModelFactory):
    """A submitted judgment; its assignment is created to match (reviewer, comparison)."""

    class Meta:
        model = models.Judgment

    comparison = factory.SubFactory(ComparisonFactory)
    reviewer = factory.SubFactory(UserFactory, role="reviewer")
    assignment = factory.LazyAttribute(
        lambda o: AssignmentFactory(
            reviewer=o.reviewer,
            comparison=o.comparison,
            state=models.Assignment.State.SUBMITTED,
            submitted_at=timezone.now(),
        )
    )
    outcome = models.Outcome.A
    strength = models.Strength.CLEAR
