"""The leaderboard and a run's human evaluation in a browser: pick a campaign and a baseline, switch locale tabs,
read the ratings and the heatmap; the run page and the runs list fill their human-evaluation parts by htmx."""

from __future__ import annotations

import itertools

import pytest

from tests.evaluation.judged import evaluated_run, judge, pair
from tests.factories import CampaignFactory


@pytest.fixture
def judged_campaign(db):
    """tuned beats base in en-US, less so in ja-JP; rival sits in between; two reviewers per pair."""
    campaign = CampaignFactory(slug="eval-round-2", overlap=2)
    outcomes = itertools.cycle([("a", "a"), ("a", "tie"), ("b", "a"), ("a", "both_bad")])
    for index in range(12):
        locale = "en-US" if index % 2 else "ja-JP"
        tags = {"scenario": ["refund", "billing", "shipping"][index % 3]}
        judge(pair(campaign, "tuned@run-1", "base@v1", locale=locale, tags=tags), *next(outcomes))
        judge(pair(campaign, "rival@v3", "base@v1", locale=locale, tags=tags), "a" if index % 3 else "b")
        judge(pair(campaign, "tuned@run-1", "rival@v3", locale=locale, tags=tags), "a" if index % 2 else "tie")
    return campaign


def test_a_lead_reads_the_leaderboard_and_a_runs_human_evaluation(
    page, live_server, sign_in, screenshot, lena, judged_campaign
):
    run = evaluated_run(judged_campaign)
    sign_in(page, "lena")

    page.click("nav >> text=Leaderboard")
    page.wait_for_selector("#leaderboard-form")
    page.select_option("select[name=campaigns]", ["eval-round-2"])
    page.fill("input[name=baseline]", "base")
    page.click("#leaderboard-form button[type=submit]")
    page.wait_for_selector("#leaderboard")
    rows = page.locator("#leaderboard tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).get_attribute("data-model") == "tuned@run-1"
    assert page.inner_text("tr[data-model='base@v1'] td.rating-value") == "1000"
    assert page.locator("#win-rate-matrix tbody tr").count() == 3
    screenshot(page, "leaderboard-1-all-locales")

    page.click("nav.tabs >> text=ja-JP")
    page.wait_for_selector("nav.tabs a.active:has-text('ja-JP')")
    assert "locale=ja-JP" in page.url
    screenshot(page, "leaderboard-2-ja-JP")

    page.goto(f"{live_server.url}/training/runs/{run.id}/")
    page.wait_for_selector("#human-evaluation .win-rate")
    assert "%" in page.inner_text("#human-evaluation .win-rate")
    assert page.locator("#human-evaluation tr[data-slice='ja-JP']").count() == 1
    page.locator("#human-evaluation").scroll_into_view_if_needed()
    screenshot(page, "leaderboard-3-run-human-evaluation")

    page.click("#human-evaluation a.leaderboard-link")
    page.wait_for_selector("#leaderboard")
    assert "baseline=base%40v1" in page.url

    page.goto(f"{live_server.url}/training/")
    page.wait_for_function(f"document.getElementById('win-rate-{run.id}').textContent.includes('%')")
    screenshot(page, "leaderboard-4-runs-list")
