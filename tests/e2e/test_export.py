"""A lead exports a snapshot in a real browser: counts follow the knobs live, then the snapshot page draws its chart."""

from __future__ import annotations

import pytest

from tests.factories import CampaignFactory, ComparisonFactory, JudgmentFactory, PromptFactory, UserFactory


@pytest.fixture
def campaign(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    campaign = CampaignFactory(slug="autumn-eval", name="Autumn eval", overlap=3)
    reviewers = [UserFactory(username=name, role="reviewer") for name in ("ada", "ben", "cy")]
    for index in range(12):
        comparison = ComparisonFactory(prompt=PromptFactory(campaign=campaign))
        outcomes = ("a", "a", "a") if index % 3 else ("a", "a", "b")  # four pairs agree only 2 to 1
        for reviewer, outcome in zip(reviewers, outcomes, strict=True):
            JudgmentFactory(comparison=comparison, reviewer=reviewer, outcome=outcome)
    return campaign


def test_a_lead_tunes_the_policy_and_exports(page, live_server, lena, campaign, sign_in, screenshot):
    sign_in(page, "lena")
    page.click("nav >> text=Export")
    page.click("text=New export")
    page.check("text=Autumn eval")
    page.wait_for_selector("text=12 of 12 pairs exported")
    page.fill("input[name=min_agreement]", "0.9")
    page.press("input[name=min_agreement]", "Tab")  # fires change
    page.wait_for_selector("text=8 of 12 pairs exported")
    assert page.locator("#count-low_agreement").inner_text() == "4"
    screenshot(page, "export_new")
    page.click("text=Export snapshot")
    page.wait_for_selector("h1:has-text('Snapshot v1')")
    page.wait_for_function("() => window.Chart && Chart.getChart('reason-chart') !== undefined")
    assert page.locator("#reason-low_agreement").inner_text() == "4"
    assert page.is_visible("text=train.jsonl: first rows")
    screenshot(page, "export_snapshot")


def test_a_large_export_shows_progress_then_opens_its_snapshot(
    page, live_server, lena, campaign, settings, sign_in, monkeypatch
):
    from annotate import tasks
    from annotate.models import ExportJob
    from annotate.services.export_jobs import export_job_execute

    settings.EXPORT_INLINE_MAX_JUDGMENTS = 0  # queued, as a million-judgment export would be
    monkeypatch.setattr(tasks.run_export_job, "apply_async", lambda *args, **kwargs: None)  # no broker message
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/exports/new/")
    page.check("text=Autumn eval")
    page.wait_for_selector("text=12 of 12 pairs exported")
    page.click("text=Export snapshot")
    page.wait_for_selector("#export-job[data-status=queued]")
    assert page.locator("#export-job").inner_text().count("0 of 12 pairs read") == 1
    # No default-queue worker runs here: the test plays the worker, and the polling card notices.
    export_job_execute(job_id=ExportJob.objects.get().id)
    page.wait_for_selector("h1:has-text('Snapshot v1')", timeout=10_000)


def test_a_bad_knob_replaces_the_counts_with_its_message(page, live_server, lena, campaign, sign_in):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/exports/new/")
    page.check("text=Autumn eval")
    page.wait_for_selector("text=12 of 12 pairs exported")
    page.fill("input[name=min_agreement]", "1.5")  # past the field's max: the browser alone would not send it
    page.press("input[name=min_agreement]", "Tab")
    page.wait_for_selector("#preview >> text=min_agreement: Ensure this value is less than or equal to 1")
    assert not page.is_visible("text=pairs exported")
    page.fill("input[name=min_agreement]", "0.9")
    page.press("input[name=min_agreement]", "Tab")
    page.wait_for_selector("text=8 of 12 pairs exported")


def test_a_failed_preview_says_so_instead_of_keeping_the_old_counts(page, live_server, lena, campaign, sign_in):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/exports/new/")
    page.check("text=Autumn eval")
    page.wait_for_selector("text=12 of 12 pairs exported")
    page.route("**/exports/preview/", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.fill("input[name=min_agreement]", "0.9")
    page.press("input[name=min_agreement]", "Tab")
    page.wait_for_selector("#preview >> text=No counts: the server answered 502.")
    assert not page.is_visible("text=pairs exported")
