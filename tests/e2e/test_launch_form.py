"""A lead fills the launch form in a real browser: typed widgets, help, folded groups, a refused β beside its field."""

from __future__ import annotations

from django.urls import reverse

from training.models import TrainingRun
from training.presets import PRESETS


def test_a_lead_sees_typed_settings_with_help_and_a_refused_beta_beside_its_field(
    page,
    live_server,
    lena,
    make_snapshot,
    tiny_base_model,
    data_dir,
    sign_in,
    screenshot,
):
    make_snapshot()
    sign_in(page, "lena")
    page.goto(live_server.url + reverse("training:run_new"))
    page.wait_for_selector("#settings-fields")

    beta = page.locator("input[name=beta]")
    assert (beta.get_attribute("type"), beta.get_attribute("min"), beta.get_attribute("max")) == ("number", "0", "10")
    assert page.locator("select[name=lr_scheduler]").count() == 1
    assert page.locator("input[type=checkbox][name=loss_type][value=sigmoid]").is_checked()
    assert page.locator("[data-setting=beta] .help").is_visible()
    assert page.is_visible(f"text={PRESETS['quick'].description}")
    # Past the essentials the settings are folded until opened.
    assert not page.locator("input[name=lora_r]").is_visible()
    page.click("#group-lora > summary")
    assert page.locator("input[name=lora_r]").is_visible()

    # The browser itself refuses β above the schema's maximum before anything is sent...
    beta.fill("1e9")
    assert page.evaluate("document.querySelector('input[name=beta]').validity.rangeOverflow") is True
    # ...and the server refuses β = 0 (the range is open at 0), beside the field.
    beta.fill("0")
    page.click("form.run-form button[type=submit]")
    error = page.locator("[data-setting=beta] .error")
    error.wait_for()
    assert error.inner_text().startswith("beta: must be in (0, 10], got 0.0")
    assert page.locator("[data-setting=beta]").get_attribute("class") == "setting has-error"
    screenshot(page, "launch-form-refused-beta")
    assert TrainingRun.objects.count() == 0

    # Switching the preset swaps the settings (htmx) and shows its description.
    page.select_option("select[name=preset]", "standard")
    page.wait_for_selector(f"text={PRESETS['standard'].description}")
    assert page.locator("input[name=max_length]").input_value() == "1024"
    screenshot(page, "launch-form-standard-preset")
