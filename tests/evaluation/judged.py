"""Hand-made judged pairs for the leaderboard and human-evaluation tests."""

from __future__ import annotations

from annotate.models import Campaign, Comparison, Judgment, Prompt
from tests.factories import CandidateFactory, ComparisonFactory, JudgmentFactory, LocaleFactory, PromptFactory


def model(spec: str) -> tuple[str, str]:
    """ "atlas@v1" → ("atlas", "v1"); "atlas" → ("atlas", "")."""
    name, _, version = spec.partition("@")
    return name, version


def prompt_of(campaign: Campaign, *, locale: str = "en-US", tags: dict | None = None) -> Prompt:
    return PromptFactory(campaign=campaign, locale=LocaleFactory(code=locale), tags=tags or {})


def pair(
    campaign: Campaign,
    first: str,
    second: str,
    *,
    prompt: Prompt | None = None,
    texts: tuple[str, str] | None = None,
    locale: str = "en-US",
    tags: dict | None = None,
) -> Comparison:
    """A comparison of `first` (candidate A) and `second` (candidate B), e.g. pair(c, "atlas@v1", "borealis@v1")."""
    prompt = prompt or prompt_of(campaign, locale=locale, tags=tags)
    (name_a, version_a), (name_b, version_b) = model(first), model(second)
    text_a, text_b = texts or (f"{first} answers {prompt.external_id}", f"{second} answers {prompt.external_id}")
    return ComparisonFactory(
        prompt=prompt,
        campaign=campaign,
        candidate_a=CandidateFactory(prompt=prompt, model_name=name_a, model_version=version_a, text=text_a),
        candidate_b=CandidateFactory(prompt=prompt, model_name=name_b, model_version=version_b, text=text_b),
    )


def judge(comparison: Comparison, *outcomes: str, source: str = "reviewer") -> list[Judgment]:
    """One judgment per outcome, each by a different reviewer."""
    return [JudgmentFactory(comparison=comparison, outcome=outcome, source=source) for outcome in outcomes]


def evaluated_run(campaign: Campaign, *, run_model: str = "tuned@run-1", baseline_model: str = "base@v1"):
    """A succeeded run with an evaluation campaign comparing `run_model` with `baseline_model` in `campaign`."""
    from annotate.models import DatasetSnapshot
    from evaluation.models import EvaluationCampaign
    from tests.factories import TrainingRunFactory

    version = (DatasetSnapshot.objects.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    snapshot = DatasetSnapshot.objects.create(version=version, path=f"/nonexistent/snapshots/v{version}")
    run = TrainingRunFactory(snapshot=snapshot, status="succeeded")
    (run_name, run_version), (base_name, base_version) = model(run_model), model(baseline_model)
    EvaluationCampaign.objects.create(
        run=run,
        campaign=campaign,
        baseline="base:1",
        run_model=run_name,
        run_model_version=run_version,
        baseline_model=base_name,
        baseline_model_version=base_version,
    )
    return run
