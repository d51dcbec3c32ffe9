from __future__ import annotations

from django import forms

from annotate.models import Campaign, Locale
from annotate.services.importing import PAIRING_MODES, import_size_problem


class UploadLimit:
    """An import form's `file`, refused by size before anything reads it (Django keeps a large upload in a temporary
    file, not memory); the limit is IMPORT_MAX_BYTES, as for the API."""

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = import_size_problem(upload.size)
        if problem:
            raise forms.ValidationError(problem)
        return upload


class ImportForm(UploadLimit, forms.Form):
    campaign = forms.SlugField(help_text="Existing campaign slug, or a new one to create")
    file = forms.FileField(help_text="JSONL: one prompt per line (Verdict or TRL preference format)")
    pairs = forms.ChoiceField(choices=[(mode, mode) for mode in PAIRING_MODES], initial="all")
    locale = forms.ChoiceField(required=False, help_text="Locale for rows that name none")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        codes = Locale.objects.values_list("code", flat=True)
        self.fields["locale"].choices = [("", "The campaign's, when it has exactly one"), *((c, c) for c in codes)]


class JudgmentImportForm(UploadLimit, forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.order_by("slug"), to_field_name="slug", help_text="Holds the imported prompts"
    )
    file = forms.FileField(help_text="JSONL: one judgment per line (an annotator's or an AI judge's)")


class LocaleForm(forms.Form):
    code = forms.CharField(max_length=35, help_text="BCP 47 tag, e.g. en-US")
    name = forms.CharField(max_length=100, required=False)


class QualificationsForm(forms.Form):
    locales = forms.ModelMultipleChoiceField(
        queryset=Locale.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )


def form_errors(form: forms.Form) -> dict[str, str]:
    """A bound form's errors in the pages' `{field: message}` terms (the services' own error dicts look alike)."""
    return {field: " ".join(errors) for field, errors in form.errors.items()}


class JudgmentForm(forms.Form):
    """The shape of the compare page's POST, checked before the judging service checks its meaning (lengths and
    allowed values included): text without NUL characters (PostgreSQL cannot store one), a whole number of
    milliseconds."""

    critique = forms.CharField(required=False)
    time_taken_ms = forms.IntegerField(required=False, min_value=0)  # the service clamps it to a day


class ResolutionForm(forms.Form):
    """The shape of a lead's escalation answer (text without NUL characters); the escalation service checks the
    rest."""

    note = forms.CharField(required=False)
