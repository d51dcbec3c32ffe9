"""The launch form: snapshot, base model, preset, and every engine setting as an editable field."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from annotate import selectors as annotate_selectors
from training.presets import DEFAULT_PRESET, PRESETS, editable_defaults
from training.selectors import base_model_list, succeeded_runs

FIXED_FIELDS = ("snapshot", "base_model", "preset")


def show_value(value: Any) -> str:
    """How a setting appears in its text box: strings bare, everything else as JSON (null, true, [..])."""
    return value if isinstance(value, str) else json.dumps(value)


def parse_value(text: str) -> Any:
    """The inverse of show_value: JSON when it parses, else the bare string; an empty box means null."""
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class RunForm(forms.Form):
    snapshot = forms.TypedChoiceField(coerce=int)
    base_model = forms.ModelChoiceField(queryset=base_model_list(), empty_label=None)
    preset = forms.ChoiceField(choices=[(key, preset.label) for key, preset in PRESETS.items()])
    name = forms.CharField(max_length=200, required=False, help_text="A short label for lists, e.g. ipo-beta-0.5")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why this run exists")
    parent_run = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Start from", help_text="An earlier run's adapter"
    )

    def __init__(self, *args, preset: str = DEFAULT_PRESET, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["snapshot"].choices = [
            (snapshot.id, str(snapshot)) for snapshot in annotate_selectors.snapshot_list()
        ]
        self.fields["base_model"].queryset = base_model_list()
        self.fields["parent_run"].choices = [("", "a fresh adapter")] + [
            (run.id, f"run #{run.id} {run.name}".strip() + f" ({run.base_model})") for run in succeeded_runs()
        ]
        self.fields["preset"].initial = preset
        self.setting_names = []
        for name, value in editable_defaults(preset).items():
            self.fields[name] = forms.CharField(required=False, initial=show_value(value), label=name)
            self.setting_names.append(name)

    def settings_fields(self):
        return [self[name] for name in self.setting_names]

    def overrides(self) -> dict[str, Any]:
        return {name: parse_value(self.cleaned_data.get(name) or "") for name in self.setting_names}

    def add_service_errors(self, errors: list[str]) -> None:
        """Put each `field: message` on its field; the rest become form-wide errors."""
        for error in errors:
            name = error.split(":", 1)[0].strip()
            self.add_error(name if name in self.fields else None, error)


class RegisterModelForm(forms.Form):
    name = forms.CharField(max_length=200)
    path = forms.CharField(max_length=1000, help_text="A folder under VERDICT_MODEL_DIRS")
