"""factory_boy factories for every model a test needs; personas live in conftest.py."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import F
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

    @factory.post_generation
    def hold_slot(self, create: bool, extracted, **kwargs) -> None:
        """Keep Comparison.taken (the review pool's slot count) in step, as the assignment service does."""
        if create and self.state in (models.Assignment.State.LEASED, models.Assignment.State.SUBMITTED):
            models.Comparison.objects.filter(pk=self.comparison_id).update(taken=F("taken") + 1)


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


class EscalationResolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.EscalationResolution

    judgment = factory.SubFactory(JudgmentFactory, outcome=models.Outcome.ESCALATE, strength="")
    decision = models.EscalationResolution.Decision.A
    resolved_by = factory.SubFactory(UserFactory, role="lead")


class ReviewerFlagFactory(factory.django.DjangoModelFactory):
    """An active flag on a reviewer; campaign=None (the default) flags them everywhere."""

    class Meta:
        model = models.ReviewerFlag

    reviewer = factory.SubFactory(UserFactory, role="reviewer")
    campaign = None
    reason = "Fails gold items"
    flagged_by = factory.SubFactory(UserFactory, role="lead")


class BaseModelFactory(factory.django.DjangoModelFactory):
    """A registered base model; point `path` at a real folder (e.g. the tiny model) for runs that train."""

    class Meta:
        model = "training.BaseModel"

    name = factory.Sequence(lambda n: f"model-{n}")
    path = factory.Sequence(lambda n: f"/nonexistent/models/model-{n}")
    revision = "0" * 64
    parameter_count = 1000


class TrainingRunFactory(factory.django.DjangoModelFactory):
    """A run row with a plausible resolved config; it is never queued (no task is sent)."""

    class Meta:
        model = "training.TrainingRun"

    snapshot = None  # pass one: snapshots are made with files on disk (tests/training/conftest.py)
    base_model = factory.SubFactory(BaseModelFactory)
    preset = "quick"
    config = factory.LazyAttribute(lambda o: {"model_dir": o.base_model.path, "output_dir": o.output_dir, "beta": 0.1})
    output_dir = factory.Sequence(lambda n: f"/nonexistent/runs/run-{n}")
    total_steps = 30


class TrainingWorkerFactory(factory.django.DjangoModelFactory):
    """A training worker that announced itself just now (CPU unless told otherwise)."""

    class Meta:
        model = "training.TrainingWorker"

    name = factory.Sequence(lambda n: f"training@host-{n}")
    device = "cpu"
    device_name = "CPU, 16 cores (x86_64)"
    memory_bytes = 64 * 2**30
