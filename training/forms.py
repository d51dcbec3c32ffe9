"""The launch form: snapshot, base model, preset, and every engine setting as a typed field built from the schema.

The fields only parse what was typed (a number, a list); whether a value is allowed is decided once, by the engine's
config validation behind `run_launch`, whose "setting: message" errors are put back beside their fields.
"""

from __future__ import annotations

from typing import Any

from django import forms

from annotate import selectors as annotate_selectors
from config.ids import MAX_ID, IdField
from training.engine.loss_table import LOSSES
from training.engine.settings_schema import GROUPS, Setting, editable_settings
from training.presets import DEFAULT_PRESET, PRESETS, preset_values
from training.selectors import base_model_list, succeeded_runs
from training.services.launch import RUN_NOTES_MAX_LENGTH

# Settings the loss table renders together: one checkbox and one weight per loss type.
LOSS_FIELDS = ("loss_type", "loss_weights")


def weight_field_name(loss: str) -> str:
    return f"weight_{loss}"


def _help(setting: Setting) -> str:
    extras = []
    if setting.interval is not None and setting.kind in ("int", "number", "smoothing"):
        extras.append(f"allowed: {setting.interval}")
    if setting.optional:
        extras.append(f"empty: {setting.none_means}")
    return setting.help + (f" ({'; '.join(extras)})" if extras else "")


def _number_attrs(setting: Setting) -> dict[str, Any]:
    """min/max/step for the browser; exclusive ends (β > 0) are left to the server's message."""
    attrs: dict[str, Any] = {"step": setting.step}
    if setting.interval is not None:
        if setting.interval.low is not None:
            attrs["min"] = f"{setting.interval.low:g}"
        if setting.interval.high is not None:
            attrs["max"] = f"{setting.interval.high:g}"
    return attrs


class AutoOrNumberField(forms.CharField):
    """label_smoothing: a number, or "auto"."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value).strip()
        if text == "auto":
            return text
        try:
            return float(text)
        except ValueError:
            raise forms.ValidationError('a number, or "auto"') from None


class ModulesField(forms.CharField):
    """target_modules: "all-linear", or module names separated by commas."""

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value).strip()
        return text if text == "all-linear" else [part.strip() for part in text.split(",") if part.strip()]

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value


def setting_field(setting: Setting) -> forms.Field:
    """The form field for one schema setting (not the loss table's)."""
    common = {"label": setting.label, "help_text": _help(setting), "required": not setting.optional}
    if setting.kind == "bool":
        return forms.BooleanField(**{**common, "required": False})
    if setting.kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in setting.choices], **common)
    if setting.kind == "int":
        return forms.IntegerField(widget=forms.NumberInput(attrs=_number_attrs(setting)), **common)
    if setting.kind == "number":
        return forms.FloatField(widget=forms.NumberInput(attrs=_number_attrs(setting)), **common)
    if setting.kind == "smoothing":
        return AutoOrNumberField(widget=forms.TextInput(attrs={"inputmode": "decimal", "list": "auto-value"}), **common)
    if setting.kind == "modules":
        return ModulesField(**common)
    raise ValueError(f"{setting.name}: no form field for a {setting.kind} setting")


class RunForm(forms.Form):
    snapshot = forms.TypedChoiceField(
        coerce=int, label="Dataset snapshot", help_text="An exported snapshot: its train, test and tie files."
    )
    base_model = forms.ModelChoiceField(
        queryset=base_model_list(), empty_label=None, help_text="A registered model folder; the adapter trains on it."
    )
    preset = forms.ChoiceField(
        choices=[(key, preset.label) for key, preset in PRESETS.items()],
        help_text="A starting point: it fills in the settings below, which all stay editable.",
    )
    name = forms.CharField(max_length=200, required=False, help_text="A short label for lists, e.g. ipo-beta-0.5")
    notes = forms.CharField(
        required=False,
        max_length=RUN_NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this run exists",
    )
    parent_run = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Start from", help_text="An earlier run's adapter"
    )
    loss_type = forms.MultipleChoiceField(
        label="Loss types",
        choices=[(name, loss.label) for name, loss in LOSSES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick one or more; their losses are summed with the weights beside them.",
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
        self.chosen_preset = PRESETS[preset]
        values = preset_values(preset)
        self.settings = [s for s in editable_settings() if s.name not in LOSS_FIELDS]
        for setting in self.settings:
            self.fields[setting.name] = setting_field(setting)
            self.fields[setting.name].initial = values[setting.name]
        chosen = [values["loss_type"]] if isinstance(values["loss_type"], str) else list(values["loss_type"])
        weights = dict(zip(chosen, values["loss_weights"] or [1.0] * len(chosen), strict=True))
        self.fields["loss_type"].initial = chosen
        for name in LOSSES:
            self.fields[weight_field_name(name)] = forms.FloatField(
                required=False,
                initial=weights.get(name, 1.0),
                widget=forms.NumberInput(attrs={"min": "0", "step": "any", "aria-label": f"weight of {name}"}),
            )

    def loss_rows(self) -> list[dict[str, Any]]:
        """One row per loss type for the template: its checkbox, weight box, label and help."""
        checkboxes = {box.data["value"]: box for box in self["loss_type"]}
        return [
            {"name": name, "loss": loss, "checkbox": checkboxes[name], "weight": self[weight_field_name(name)]}
            for name, loss in LOSSES.items()
        ]

    def groups(self) -> list[dict[str, Any]]:
        """The settings by group, essentials first; the template folds every other group."""
        by_group: dict[str, list] = {key: [] for key in GROUPS}
        for setting in self.settings:
            by_group[setting.group].append(self[setting.name])
        rows = [{"key": key, "label": GROUPS[key], "fields": fields} for key, fields in by_group.items()]
        loss_errors = self["loss_type"].errors
        for row in rows:
            row["has_errors"] = any(field.errors for field in row["fields"]) or (row["key"] == "loss" and loss_errors)
        return [row for row in rows if row["fields"] or row["key"] == "loss"]

    def overrides(self) -> dict[str, Any]:
        """The engine settings as typed; an unticked loss's weight is ignored, all-1 weights are left implicit."""
        data = self.cleaned_data
        values = {setting.name: data.get(setting.name) for setting in self.settings}
        chosen = data.get("loss_type") or []
        weights = [data.get(weight_field_name(name)) for name in chosen]
        weights = [1.0 if w is None else w for w in weights]
        values["loss_type"] = chosen[0] if len(chosen) == 1 else chosen
        values["loss_weights"] = None if all(w == 1.0 for w in weights) else weights
        return values

    def add_service_errors(self, errors: list[str]) -> None:
        """Put each `setting: message` beside its field (loss weights beside the loss table); the rest go on top."""
        for error in errors:
            name = error.split(":", 1)[0].strip()
            name = "loss_type" if name == "loss_weights" else name
            self.add_error(name if name in self.fields else None, error)


class RegisterModelForm(forms.Form):
    name = forms.CharField(max_length=200)
    path = forms.CharField(max_length=1000, help_text="A folder under VERDICT_MODEL_DIRS")


# Query strings the training pages read (config.ids.read_query): ids within the bounds a database holds.


class LaunchQuery(forms.Form):
    """`/training/new?snapshot=&base_model=&parent_run=`: what a link pre-selects on the launch form."""

    snapshot = IdField(required=False)
    base_model = IdField(required=False)
    parent_run = IdField(required=False)


class GenerateQuery(forms.Form):
    """`/training/generate?round_of=`: the run whose next on-policy round the form prepares."""

    round_of = IdField(required=False)


class MetricsQuery(forms.Form):
    """`/training/runs/<id>/metrics?after=`: the last step the chart already holds."""

    after = forms.IntegerField(required=False, min_value=0, max_value=MAX_ID)
