"""A lead's export pages: the policy form with live counts, an export job's progress, the snapshot list, one
snapshot's manifest and files."""

from __future__ import annotations

import json
from itertools import islice

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from annotate import selectors
from annotate.export_difficulty import KNOBS, MARGIN_UNITS
from annotate.export_policy import REASONS, WEIGHT_MODES, WEIGHTINGS, ExportPolicy, PolicyError
from annotate.margin_selectors import reference_models
from annotate.models import Campaign, DatasetSnapshot, ExportJob
from annotate.permissions import lead_required
from annotate.services.export_jobs import export_job_create, export_job_progress
from annotate.services.exporting import ExportError, export_preview
from annotate.sources import SOURCE_FILTERS
from config.ids import ModelIdsField

PREVIEW_ROWS = 3


class CampaignChoices(ModelIdsField):
    def label_from_instance(self, obj: Campaign) -> str:
        return f"{obj.name} ({obj.slug}, rubric {obj.rubric.slug} v{obj.rubric.version})"


def _knob(name: str, field_class: type[forms.Field], **extra) -> forms.Field:
    """A form field for a difficulty knob, its default and help from the one table (export_difficulty.KNOBS)."""
    knob = KNOBS[name]
    if knob.minimum is not None:
        extra |= {"min_value": knob.minimum, "max_value": knob.maximum}
    return field_class(required=False, initial=knob.default, help_text=knob.help, **extra)


class SnapshotPolicyForm(forms.Form):
    campaigns = CampaignChoices(
        queryset=Campaign.objects.select_related("rubric").order_by("slug"), widget=forms.CheckboxSelectMultiple
    )
    min_judgments = forms.IntegerField(
        required=False, min_value=1, help_text="Judgments a pair needs; empty means each campaign's overlap"
    )
    min_agreement = forms.FloatField(
        initial=ExportPolicy.min_agreement, min_value=0, max_value=1, help_text="Share the majority must reach"
    )
    weighting = forms.ChoiceField(
        choices=[(w, w) for w in WEIGHTINGS],
        initial=ExportPolicy.weighting,
        help_text="reliability: weigh each reviewer by gold accuracy, else agreement with the majority",
    )
    weight = forms.ChoiceField(
        choices=[(w, w) for w in WEIGHT_MODES],
        initial=ExportPolicy.weight,
        help_text="Per-pair training weight: the majority's share, or 1",
    )
    test_share = forms.FloatField(initial=ExportPolicy.test_share, min_value=0, max_value=0.99)
    seed = forms.IntegerField(initial=ExportPolicy.seed, min_value=-(2**63), max_value=2**63 - 1)  # 64 bits
    source = forms.ChoiceField(
        required=False,  # absent: the policy's default, human
        choices=[(name, name) for name in SOURCE_FILTERS],
        initial=ExportPolicy.source,
        help_text="Whose judgments count: human (reviewers and imported annotators), ai (AI judges) or all",
    )
    include_evaluation = forms.BooleanField(
        required=False,
        initial=ExportPolicy.include_evaluation,
        help_text="Also export evaluation campaigns' judgments (on-policy pairs); protected prompts never reach train",
    )
    # Pair difficulty and artifacts (annotate/export_difficulty.py); the agreement floor is min_agreement above.
    reference_model_digest = _knob("reference_model_digest", forms.ChoiceField, choices=[("", "none")])
    margin_unit = _knob("margin_unit", forms.ChoiceField, choices=[(unit, unit) for unit in MARGIN_UNITS])
    max_margin_nats = _knob("max_margin_nats", forms.FloatField)
    longer_answer_cap = _knob("longer_answer_cap", forms.FloatField)
    drop_near_duplicates = _knob("drop_near_duplicates", forms.BooleanField)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        scored = [
            (m["digest"], f"{m['name'] or 'unnamed'} · {m['digest'][:12]} ({m['answers']} answers scored)")
            for m in reference_models()
        ]
        self.fields["reference_model_digest"].choices = [("", "none"), *scored]

    def policy(self) -> ExportPolicy:
        data = {key: value for key, value in self.cleaned_data.items() if key != "campaigns"}
        data["source"] = data.get("source") or ExportPolicy.source
        data["margin_unit"] = data.get("margin_unit") or ExportPolicy.margin_unit
        return ExportPolicy.from_dict(data)


def _clean(form: SnapshotPolicyForm) -> ExportPolicy | None:
    """The policy, or None with the problem added to the form."""
    if not form.is_valid():
        return None
    try:
        return form.policy()
    except PolicyError as exc:
        form.add_error(None, str(exc))
        return None


@lead_required
def export_list(request: HttpRequest) -> HttpResponse:
    return render(request, "annotate/exports/list.html", {"snapshots": selectors.snapshot_list()})


@lead_required
def export_new(request: HttpRequest) -> HttpResponse:
    form = SnapshotPolicyForm(request.POST or None)
    if request.method == "POST":
        policy = _clean(form)
        if policy is not None:
            try:
                job = export_job_create(
                    campaigns=form.cleaned_data["campaigns"], policy=policy, requested_by=request.user
                )
            except ExportError as exc:
                form.add_error(None, str(exc))
            else:
                if job.status == ExportJob.Status.FAILED:  # ran inline and failed
                    form.add_error(None, job.error)
                elif job.snapshot_id:  # small enough to run inline
                    messages.success(request, f"Snapshot v{job.snapshot.version} written.")
                    return redirect("export_detail", snapshot_id=job.snapshot_id)
                else:
                    return redirect("export_job", job_id=job.id)
    status = 400 if form.is_bound else 200
    return render(request, "annotate/exports/new.html", {"form": form}, status=status)


@lead_required
def export_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A queued export's page; its progress card re-requests itself every second and stops (286) once done."""
    job = get_object_or_404(ExportJob.objects.select_related("snapshot"), id=job_id)
    done, total = export_job_progress(job=job)
    context = {"job": job, "done": done, "total": total, "percent": round(100 * done / total) if total else 0}
    if request.htmx:
        # 286 tells htmx to stop polling: the card it swaps in is the final one.
        status = 286 if job.done else 200
        response = render(request, "annotate/exports/_job_progress.html", context, status=status)
        if job.snapshot_id:
            response["HX-Redirect"] = reverse("export_detail", args=[job.snapshot_id])
        return response
    return render(request, "annotate/exports/job.html", context)


@lead_required
def export_preview_counts(request: HttpRequest) -> HttpResponse:
    """The htmx fragment under the policy form: what an export with these knobs would hold, or what is wrong with
    them. An answer always replaces the counts shown, so a knob with a bad value never looks accepted."""
    form = SnapshotPolicyForm(request.POST or request.GET or None)
    policy = _clean(form) if form.is_bound else None
    counts = None
    if policy is not None:
        counts = export_preview(campaigns=form.cleaned_data["campaigns"], policy=policy)
    # htmx swaps 2xx answers only: the fragment with the form's messages comes back as 200 to it, 400 to others.
    status = 400 if form.errors and not request.htmx else 200
    context = {"form": form, "counts": counts, **_reason_rows(counts), **_difficulty_charts(counts)}
    return render(request, "annotate/exports/_preview.html", context, status=status)


def _reason_rows(counts: dict | None) -> dict:
    """(key, label, count) per exclusion reason, in the order the policy checks them."""
    per_reason = (counts or {}).get("per_reason", {})
    return {"reason_rows": [(key, REASONS.get(key, key), count) for key, count in per_reason.items()]}


def _bars(histogram: dict | None) -> list[tuple[str, int, int]]:
    """(label, count, percent of the tallest bin) per bin of a histogram from the counts."""
    if not histogram:
        return []
    tallest = max(histogram["counts"]) or 1
    return [
        (label, n, round(100 * n / tallest)) for label, n in zip(histogram["labels"], histogram["counts"], strict=True)
    ]


def _difficulty_charts(counts: dict | None) -> dict:
    """The margin and length-difference histograms of the pairs the policy kept, before the difficulty knobs."""
    difficulty = (counts or {}).get("difficulty") or {}
    histograms = difficulty.get("histograms") or {}
    unit = (difficulty.get("margins") or {}).get("unit", "")
    return {
        "margin_bars": _bars(histograms.get("margin")),
        "margin_caption": f"Reference margin of the majority's answer (nats, {unit.replace('_', ' ')})",
        "length_bars": _bars(histograms.get("length_difference")),
    }


def _snapshot_or_404(snapshot_id: int) -> DatasetSnapshot:
    try:
        return selectors.snapshot_get(snapshot_id=snapshot_id)
    except DatasetSnapshot.DoesNotExist:
        raise Http404("No such snapshot") from None


def _preview_rows(snapshot: DatasetSnapshot, name: str) -> list[str]:
    try:
        path = selectors.snapshot_file_path(snapshot=snapshot, name=name)
    except FileNotFoundError:
        return []
    with path.open(encoding="utf-8") as handle:
        return [line.strip() for line in islice(handle, PREVIEW_ROWS)]


@lead_required
def export_detail(request: HttpRequest, snapshot_id: int) -> HttpResponse:
    snapshot = _snapshot_or_404(snapshot_id)
    manifest = snapshot.manifest
    counts = manifest.get("counts", {})
    per_reason = counts.get("per_reason", {})
    chart = {"labels": [REASONS.get(r, r) for r in per_reason], "values": list(per_reason.values())}
    context = {
        "snapshot": snapshot,
        "manifest": manifest,
        "counts": counts,
        **_reason_rows(counts),
        **_difficulty_charts(counts),
        "chart": chart,
        "files": sorted(manifest.get("files", {}).items()),
        "previews": [(name, _preview_rows(snapshot, name)) for name in ("train.jsonl", "test.jsonl", "ties.jsonl")],
        "manifest_json": json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True),
    }
    return render(request, "annotate/exports/detail.html", context)


@lead_required
def export_file(request: HttpRequest, snapshot_id: int, name: str) -> FileResponse:
    snapshot = _snapshot_or_404(snapshot_id)
    try:
        path = selectors.snapshot_file_path(snapshot=snapshot, name=name)
    except FileNotFoundError:
        raise Http404("No such file in this snapshot") from None
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"v{snapshot.version}-{name}")
