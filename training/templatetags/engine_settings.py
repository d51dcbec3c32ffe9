"""`{% run_settings run %}`: a run's engine settings by group, with the schema's labels and help.

Any page showing a run (its detail page, a comparison) can include it; `settings_rows` is the plain function
behind it.
"""

from __future__ import annotations

from typing import Any

from django import template

from training.engine.settings_schema import GROUPS, SETTINGS

register = template.Library()


def show(value: Any, none_means: str = "") -> str:
    """A setting's value as a person reads it: lists comma-separated, null as what it means."""
    if value is None:
        return none_means or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def settings_rows(config: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"label": group, "rows": [{"name", "label", "value", "help", "changed"}]}] in the schema's order.

    The per-run paths are left out (the run page shows them as lineage); settings the schema no longer knows (an
    older run) are listed under "Other" as stored.
    """
    groups: dict[str, list[dict[str, Any]]] = {key: [] for key in GROUPS}
    for name, setting in SETTINGS.items():
        if setting.managed or name not in config:
            continue
        value = config[name]
        groups[setting.group].append(
            {
                "name": name,
                "label": setting.label,
                "value": show(value, setting.none_means),
                "help": setting.help,
                "changed": value != setting.default,
            }
        )
    other = [
        {"name": name, "label": name, "value": show(value), "help": "", "changed": False}
        for name, value in config.items()
        if name not in SETTINGS
    ]
    result = [{"label": GROUPS[key], "rows": rows} for key, rows in groups.items() if rows]
    return result + ([{"label": "Other", "rows": other}] if other else [])


@register.inclusion_tag("training/_settings_table.html")
def run_settings(run) -> dict[str, Any]:
    return {"groups": settings_rows(run.config or {})}
