from __future__ import annotations

from django import forms

from annotate.models import Locale
from annotate.services.importing import PAIRING_MODES


class ImportForm(forms.Form):
    campaign = forms.SlugField(help_text="Existing campaign slug, or a new one to create")
    file = forms.FileField(help_text="JSONL: one prompt per line (Verdict or TRL preference format)")
    pairs = forms.ChoiceField(choices=[(mode, mode) for mode in PAIRING_MODES], initial="all")
    locale = forms.ChoiceField(required=False, help_text="Locale for rows that name none")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        codes = Locale.objects.values_list("code", flat=True)
        self.fields["locale"].choices = [("", "The campaign's, when it has exactly one"), *((c, c) for c in codes)]
