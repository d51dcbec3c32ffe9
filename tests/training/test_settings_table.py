"""The run page's settings table: a run's config shown with the schema's labels, groups and help."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import TrainingRunFactory
from training.templatetags.engine_settings import settings_rows


def test_settings_are_grouped_labelled_and_marked_where_they_differ_from_the_defaults():
    groups = settings_rows(
        {"model_dir": "/m", "beta": 0.5, "loss_type": ["ipo", "sft"], "max_steps": None, "share_prompt": True}
    )
    assert [g["label"] for g in groups] == ["Essentials", "Hardware and memory"]
    rows = {row["name"]: row for row in groups[0]["rows"]}
    assert "model_dir" not in rows  # per-run paths are lineage, not settings
    assert rows["beta"]["label"] == "β (KL strength)" and rows["beta"]["value"] == "0.5" and rows["beta"]["changed"]
    assert rows["loss_type"]["value"] == "ipo, sft"
    assert rows["max_steps"]["value"] == "run all epochs" and not rows["max_steps"]["changed"]
    assert groups[1]["rows"][0]["value"] == "yes"


def test_settings_an_older_run_has_that_the_schema_dropped_are_still_shown():
    assert settings_rows({"beta": 0.1, "old_knob": 3})[-1] == {
        "label": "Other",
        "rows": [{"name": "old_knob", "label": "old_knob", "value": "3", "help": "", "changed": False}],
    }


def test_the_run_page_shows_the_settings_table(client_for, lena, make_snapshot):
    run = TrainingRunFactory(snapshot=make_snapshot(), config={"beta": 0.25, "lora_r": 8, "device": "cpu"})
    html = client_for(lena).get(reverse("training:run_detail", args=[run.id])).content.decode()
    assert 'id="run-settings"' in html and "<strong>LoRA adapter</strong>" in html
    assert 'data-setting="beta">' in html and "<td>0.25</td>" in html
