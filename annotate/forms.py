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
