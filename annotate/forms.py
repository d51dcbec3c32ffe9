from __future__ import annotations

from django import forms

from annotate.services.importing import PAIRING_MODES, import_size_problem


class ImportForm(forms.Form):
    campaign = forms.SlugField(help_text="Existing campaign slug, or a new one to create")
    file = forms.FileField(help_text="JSONL: one prompt per line (Verdict or TRL preference format)")
    pairs = forms.ChoiceField(choices=[(mode, mode) for mode in PAIRING_MODES], initial="all")
    locale = forms.CharField(required=False, help_text="Locale for rows that do not name one")

    def clean_file(self):
        """Refused by size before anything reads it (Django keeps a large upload in a temporary file, not memory)."""
        upload = self.cleaned_data["file"]
        problem = import_size_problem(upload.size)
        if problem:
            raise forms.ValidationError(problem)
        return upload


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
