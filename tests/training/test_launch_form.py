"""The launch form: typed fields built from the engine's settings schema, presets, errors beside their fields."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from training.engine.settings_schema import SETTINGS, defaults, editable_settings
from training.models import TrainingRun
from training.presets import PRESETS, preset_values


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: calls.append(kw))
    return calls


def _setting_html(html: str, name: str) -> str:
    """The markup of one setting's block on the page (its input, error and help)."""
    match = re.search(rf'<div class="setting[^"]*" data-setting="{name}">(.*?)</small>\s*</div>', html, re.S)
    assert match, f"no field for {name}"
    return match.group(1)


def _form_data(snapshot, base_model, *, losses: dict[str, float] | None = None, **settings) -> dict:
    """What the browser posts for the quick preset with `settings` changed; `losses` ticks loss types with weights."""
    values = {**preset_values("quick"), **settings}
    data = {"snapshot": snapshot.id, "base_model": base_model.id, "preset": "quick"}
    for setting in editable_settings():
        value = values[setting.name]
        if setting.kind == "bool":
            if value:
                data[setting.name] = "on"
        elif setting.kind not in ("losses", "weights"):
            data[setting.name] = "" if value is None else str(value)
    losses = losses or {"sigmoid": 1.0}
    data["loss_type"] = list(losses)
    data.update({f"weight_{name}": str(weight) for name, weight in losses.items()})
    return data


def test_the_launch_form_has_a_typed_widget_and_help_for_every_setting(
    client_for, lena, make_snapshot, tiny_base_model
):
    snapshot = make_snapshot()
    page = client_for(lena).get(reverse("training:run_new") + f"?snapshot={snapshot.id}")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<option value="{snapshot.id}" selected>' in html
    assert escape(PRESETS["quick"].description) in html
    assert re.search(r'<input type="number" name="beta" value="0.1" step="any" min="0" max="10"', html)
    assert re.search(r'<input type="number" name="max_steps" value="30" step="1" min="1"', html)
    assert '<select name="lr_scheduler"' in html and '<option value="cosine" selected>' in html
    assert re.search(r'<input type="checkbox" name="share_prompt"[^>]* checked', html)
    assert re.search(r'<input type="checkbox" name="loss_type" value="sigmoid"[^>]* checked', html)
    assert re.search(r'<input type="checkbox" name="loss_type" value="rao_kupper"(?![^>]*checked)', html)
    assert 'name="weight_sft"' in html
    for setting in editable_settings():
        if setting.name not in ("loss_type", "loss_weights"):
            assert escape(setting.help) in _setting_html(html, setting.name)
    # Essentials are open; every other group is folded.
    essentials, folded = html.split('<details class="settings-group"', 1)
    assert 'name="beta"' in essentials and 'name="lora_r"' not in essentials and 'name="lora_r"' in folded


def test_changing_the_preset_swaps_in_its_settings_as_a_fragment(client_for, lena, tiny_base_model):
    fragment = client_for(lena).get(reverse("training:run_new") + "?preset=standard", headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and 'id="settings-fields"' in html
    assert escape(PRESETS["standard"].description) in html
    assert 'name="max_length" value="1024"' in html
    assert re.search(r'<input type="checkbox" name="gradient_checkpointing"[^>]* checked', html)


def test_presets_store_only_what_differs_from_the_engine_defaults():
    engine_defaults = defaults()
    for preset in PRESETS.values():
        assert preset.changes, preset.key
        for name, value in preset.changes.items():
            assert name in SETTINGS and value != engine_defaults[name], f"{preset.key}.{name} repeats the default"
            assert SETTINGS[name].problems(value) == []


def test_launching_from_the_form_queues_the_run_with_its_losses_and_weights(
    client_for, lena, make_snapshot, tiny_base_model, data_dir, sent, django_capture_on_commit_callbacks
):
    data = _form_data(make_snapshot(), tiny_base_model, losses={"ipo": 1.0, "sft": 0.2}, max_steps=12, beta=0.05)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(lena).post(reverse("training:run_new"), data)
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("training:run_detail", args=[run.id])
    assert run.config["loss_type"] == ["ipo", "sft"] and run.config["loss_weights"] == [1.0, 0.2]
    assert run.config["max_steps"] == 12 and run.config["beta"] == 0.05 and run.config["share_prompt"] is True
    assert run.launched_by == lena and len(sent) == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"beta": 0}, "beta", "beta: must be in (0, 10], got 0.0"),
        ({"beta": 1e9}, "beta", "beta: must be in (0, 10]"),
        ({"learning_rate": 10}, "learning_rate", "learning_rate: must be in (0, 0.01]"),
        ({"lora_r": 0}, "lora_r", "lora_r: must be in [1, 1024]"),
        ({"label_smoothing": 0.1}, "label_smoothing", "label_smoothing: 0.1 has no effect on sigmoid"),
        ({"label_smoothing": "lots"}, "label_smoothing", "a number, or &quot;auto&quot;"),
        ({"batch_size": ""}, "batch_size", "This field is required."),
    ],
)
def test_a_refused_setting_is_shown_beside_its_field_and_nothing_is_queued(
    client_for, lena, make_snapshot, tiny_base_model, data_dir, sent, changes, field, message
):
    response = client_for(lena).post(
        reverse("training:run_new"), _form_data(make_snapshot(), tiny_base_model, **changes)
    )
    assert response.status_code == 400
    assert message in _setting_html(response.content.decode(), field)
    assert TrainingRun.objects.count() == 0 and sent == []


def test_a_bad_loss_weight_is_shown_beside_the_loss_table_in_an_open_group(
    client_for, lena, make_snapshot, tiny_base_model, data_dir, sent
):
    data = _form_data(make_snapshot(), tiny_base_model, losses={"sigmoid": -1.0, "sft": 1.0}, lora_dropout=1.5)
    html = client_for(lena).post(reverse("training:run_new"), data).content.decode()
    table = html.split('data-setting="loss_type"', 1)[1].split("</table>", 1)[1]
    assert "loss_weights: a list of numbers &gt;= 0" in table.split("</div>", 1)[0]
    assert '<details class="settings-group" id="group-lora" open>' in html  # lora_dropout's error is not hidden
    assert TrainingRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_rendering_the_launch_form_does_not_import_torch(lena):
    """In a fresh process on this test database: the launch page renders and torch was never imported."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"  # as tests/conftest.py: no collectstatic manifest in tests
        "settings.STORAGES = {**settings.STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
        "from django.test.utils import setup_test_environment\n"
        "setup_test_environment()\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "client = Client()\n"
        "client.force_login(get_user_model().objects.get(username='lena'))\n"
        f"page = client.get('{reverse('training:run_new')}')\n"
        "print(page.status_code, b'name=\"beta\"' in page.content, 'torch' in sys.modules)\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    assert result.stdout.split() == ["200", "True", "False"], result.stderr[-2000:]
