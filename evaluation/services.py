"""Evaluation campaigns: reviewers judge a succeeded run's answers against a baseline's, on protected prompts.

`evaluation_campaign_create` is one transaction: it checks the request, protects the prompts (so no later export
trains on them, whatever campaign they reappear in), creates the campaign (purpose "evaluation": its judgments stay
out of training exports by default) and one generation job in which both models answer every prompt with the same
settings, and records which candidates are the run's and which the baseline's. The job is queued on commit; its
import fills the campaign with blind, randomised pairs like any other.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from annotate import selectors as annotate_selectors
from annotate.models import Campaign, Locale
from annotate.services.protection import prompts_protect
from annotate.services.rubrics import default_rubric
from evaluation.models import EvaluationCampaign
from training.models import BaseModel, TrainingRun
from training.services import GenerationRejected
from training.services.generation import generation_job_create, run_model_name

TEST_SPLIT = "test-split"
MAX_OVERLAP = 10
SLUG_ATTEMPTS = 20
# One answer per model and prompt: one blind pair per prompt. The rest are the generation form's defaults.
DEFAULT_SETTINGS: dict[str, Any] = {"samples": 1, "temperature": 0.8, "top_p": 0.95, "max_new_tokens": 256, "seed": 0}
# Where the generation service's field names differ from this service's.
_GENERATION_FIELDS = {
    "models": "baseline",
    "prompts_file": "prompts",
    "source_campaign": "prompts",
    "locale": "prompts",
}


class EvaluationRejected(Exception):
    """An evaluation that cannot be created; `errors` maps each field to messages a user can act on."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {m}" for key, messages in errors.items() for m in messages))


def _check_baseline(run: TrainingRun, baseline: str) -> list[str]:
    kind, _, raw_id = baseline.partition(":")
    if kind not in ("base", "run") or not raw_id.isdigit():
        return [f"{baseline!r}: expected base:ID (a registered model) or run:ID (another succeeded run)"]
    if baseline == f"run:{run.id}":
        return ["choose a baseline other than the run itself"]
    if kind == "base" and not BaseModel.objects.filter(id=int(raw_id)).exists():
        return [f"{baseline}: no registered base model with id {raw_id}"]
    if kind == "run" and not TrainingRun.objects.filter(id=int(raw_id), status=TrainingRun.Status.SUCCEEDED).exists():
        return [f"{baseline}: no succeeded run with id {raw_id}"]
    return []


def _prompt_rows(run: TrainingRun, prompts: str) -> tuple[list[dict[str, Any]], Campaign | None]:
    """The prompts to evaluate on as import rows (unique ids), and the campaign they come from when one was named."""
    if prompts != TEST_SPLIT:
        campaign = Campaign.objects.filter(slug=prompts).first()
        if campaign is None:
            raise EvaluationRejected(
                {"prompts": [f"expected {TEST_SPLIT!r} or a campaign slug; no campaign {prompts!r}"]}
            )
        return annotate_selectors.prompt_rows(campaigns=[campaign]), campaign
    rows, ids = [], set()
    for row in annotate_selectors.snapshot_split_rows(snapshot=run.snapshot, split="test"):
        external_id = row["id"]
        while external_id in ids:  # the same prompt id in two of the snapshot's campaigns
            external_id = f"{row['campaign'] or 'p'}-{external_id}"
        ids.add(external_id)
        text = {"messages": row["prompt"]} if isinstance(row["prompt"], list) else {"prompt": row["prompt"]}
        rows.append({"id": external_id, "locale": row["locale"], **text, "tags": row["tags"]})
    return rows, None


def _slug_stem(run: TrainingRun) -> str:
    """Reviewers read an evaluation campaign's slug (in the review address) and its name, so neither says which run
    or baseline answered: both come from the campaign the run was trained on."""
    trained_on = run.snapshot.campaigns.order_by("slug").first()
    return slugify(f"{trained_on.slug if trained_on else 'run'}-evaluation")[:90]


def _taken_slugs(stem: str) -> set[str]:
    return set(Campaign.objects.filter(slug__startswith=stem).values_list("slug", flat=True))


def _campaign_create(run: TrainingRun, **fields: Any) -> Campaign:
    """The evaluation's campaign under the first of stem, stem-2, stem-3… that is free. Two evaluations started at
    once both read the same slug free; the one that loses the unique index goes on to the next (each try in its own
    savepoint, so the failed insert does not spoil the outer transaction)."""
    stem = _slug_stem(run)
    taken = _taken_slugs(stem)
    free = (slug for n in itertools.count(1) if (slug := stem if n == 1 else f"{stem}-{n}") not in taken)
    for slug in itertools.islice(free, SLUG_ATTEMPTS):
        try:
            with transaction.atomic():
                return Campaign.objects.create(slug=slug, **fields)
        except IntegrityError:
            if not Campaign.objects.filter(slug=slug).exists():
                raise  # another constraint failed: not a slug collision
    raise EvaluationRejected({"run": [f"could not find a free campaign slug after {stem!r}; try again"]})


def _model_version(pin: dict[str, Any]) -> str:
    """The `model_version` the worker will give this model's candidates (training/services/generation.py)."""
    if pin["run_id"]:
        return f"run-{pin['run_id']}"
    from training.engine.digest import model_digest
    from training.engine.prompts import model_version

    return model_version(model_digest(pin["model_dir"]), None)


def _rejected(exc: GenerationRejected) -> EvaluationRejected:
    errors: dict[str, list[str]] = {}
    for field, messages in exc.errors.items():
        errors.setdefault(_GENERATION_FIELDS.get(field, field), []).extend(messages)
    return EvaluationRejected(errors)


def evaluation_campaign_create(
    *,
    run: TrainingRun,
    baseline: str,
    requested_by: AbstractBaseUser | None,
    overlap: int = 1,
    settings_values: dict[str, Any] | None = None,
    prompts: str = TEST_SPLIT,
) -> EvaluationCampaign:
    """Protect the prompts, create the evaluation campaign and its generation job; EvaluationRejected (field →
    messages) when the request cannot be served.

    `prompts`: "test-split" (the run's snapshot's test split, never trained on) or a campaign slug (its prompts, which
    become protected). `settings_values` override DEFAULT_SETTINGS; both models sample with the same ones.
    """
    errors: dict[str, list[str]] = {}
    if run.status != TrainingRun.Status.SUCCEEDED:
        errors["run"] = [f"run #{run.id} is {run.status}; only a succeeded run can be evaluated"]
    if problems := _check_baseline(run, baseline):
        errors["baseline"] = problems
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 1 <= overlap <= MAX_OVERLAP:
        errors["overlap"] = [f"expected a whole number from 1 to {MAX_OVERLAP}, got {overlap!r}"]
    if errors:
        raise EvaluationRejected(errors)
    rows, source = _prompt_rows(run, prompts)
    if not rows:
        where = f"snapshot v{run.snapshot.version}'s test split" if source is None else f"campaign {prompts!r}"
        raise EvaluationRejected({"prompts": [f"{where} holds no prompts to evaluate on"]})
    settings_values = {**DEFAULT_SETTINGS, **(settings_values or {})}
    trained_on = run.snapshot.campaigns.select_related("rubric").order_by("slug").first()
    with transaction.atomic():
        campaign = _campaign_create(
            run,
            name=f"Evaluation · {trained_on.name}" if trained_on else "Evaluation",
            rubric=trained_on.rubric if trained_on else default_rubric(),
            overlap=overlap,
            purpose=Campaign.Purpose.EVALUATION,
        )
        # The run's campaigns' locales, and any other the prompts are in (a named campaign's may differ).
        trained_locales = Locale.objects.filter(campaigns__in=run.snapshot.campaigns.all())
        campaign.locales.set({*trained_locales, *Locale.objects.filter(code__in={row["locale"] for row in rows})})
        protected = [(row.get("messages") or row.get("prompt", ""), row["locale"]) for row in rows]
        prompts_protect(
            prompts=protected,
            campaign=campaign,
            run_id=run.id,
            reason=f"evaluation of run #{run.id}" + (f" on campaign {source.slug}" if source else " on its test split"),
            created_by=requested_by,
        )
        try:
            job = generation_job_create(
                name=f"Evaluation of {run_model_name(run)} against {baseline}",
                models=[f"run:{run.id}", baseline],
                settings_values=settings_values,
                target_campaign=campaign.slug,
                source_campaign=source.slug if source else "",
                prompts_file=None
                if source
                else "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode(),
                pairs="across-models",
                requested_by=requested_by,
            )
        except GenerationRejected as exc:
            raise _rejected(exc) from exc
        job.source = {**job.source, "kind": "evaluation", "prompts": prompts, "run": run.id}
        if source is None:
            job.source["snapshot"] = run.snapshot.version
        job.save(update_fields=["source"])
        run_pin, baseline_pin = job.pinned_models
        return EvaluationCampaign.objects.create(
            run=run,
            campaign=campaign,
            generation_job=job,
            baseline=baseline,
            run_model=run_pin["name"],
            run_model_version=_model_version(run_pin),
            baseline_model=baseline_pin["name"],
            baseline_model_version=_model_version(baseline_pin),
            generation_settings=job.settings,
            created_by=requested_by if getattr(requested_by, "pk", None) else None,
        )
