"""A lead opens the quality dashboard in a real browser: headline numbers, the chart, sorting, a reviewer drill-down,
flags, one pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.cache import cache

from annotate.models import Assignment
from annotate.tasks import refresh_quality_report
from tests.factories import AssignmentFactory, CampaignFactory, ComparisonFactory, JudgmentFactory, UserFactory

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
def judged_campaign(db):
    """24 pairs judged by three reviewers over four days; 'quinn' is fast and always picks the left answer."""
    cache.clear()
    campaign = CampaignFactory(slug="spring-eval", name="Spring eval", overlap=3)
    reviewers = [UserFactory(username=name, role="reviewer") for name in ("ada", "ben", "quinn")]
    for index in range(24):
        comparison = ComparisonFactory(prompt__campaign=campaign)
        truth = "a" if index % 3 else "b"
        for reviewer in reviewers:
            quinn = reviewer.username == "quinn"
            a_on_left = index % 2 == 0
            outcome = ("a" if a_on_left else "b") if quinn else truth
            if reviewer.username == "ben" and index % 5 == 0:
                outcome = "tie"
            JudgmentFactory(
                assignment=AssignmentFactory(
                    reviewer=reviewer, comparison=comparison, a_on_left=a_on_left, state=Assignment.State.SUBMITTED
                ),
                comparison=comparison,
                reviewer=reviewer,
                outcome=outcome,
                strength="" if outcome == "tie" else "clear",
                ratings={"a": {"overall": 4 if outcome == "a" else 2}, "b": {"overall": 3}},
                time_taken_ms=3_000 if quinn else 40_000 + 1_000 * index,
                created_at=START + timedelta(days=index // 6, minutes=index),
            )
    return campaign


def test_a_lead_reads_the_quality_dashboard(page, live_server, lena, judged_campaign, sign_in, screenshot):
    sign_in(page, "lena")
    page.click("nav >> text=Quality")
    page.click("text=Spring eval")
    page.wait_for_selector("#headline")
    assert page.is_visible("text=Outcome alpha (nominal)")
    assert page.is_visible("text=72 judgments on 24 pairs by 3 reviewers")
    # Chart.js drew the agreement chart, and quinn (fast, always left) is highlighted.
    page.wait_for_function("() => window.Chart && Chart.getChart('agreement-chart') !== undefined")
    quinn_row = page.locator("#reviewer-table tr", has_text="quinn")
    assert "outlier" in quinn_row.get_attribute("class")
    assert quinn_row.locator("text=too fast").is_visible()
    assert page.locator("#kappa-heatmap td").count() == 9
    screenshot(page, "quality_dashboard")

    # Sorting swaps the table in place (htmx) and keeps the URL shareable.
    page.click("#reviewer-table th >> text=Median time")
    page.wait_for_url("**sort=median_seconds&dir=desc")
    assert "quinn" in page.locator("#reviewer-table tbody tr").last.inner_text()
    page.click("#reviewer-table th >> text=Median time")
    page.wait_for_url("**sort=median_seconds&dir=asc")
    assert "quinn" in page.locator("#reviewer-table tbody tr").first.inner_text()

    page.click("#reviewer-table >> text=quinn")
    page.wait_for_selector("#recent-judgments")
    assert page.is_visible("h1 >> text=quinn")
    assert page.locator("#recent-judgments tbody tr").count() == 24
    screenshot(page, "quality_reviewer")


def test_a_lead_flags_a_reviewer_and_opens_a_pair(page, live_server, lena, judged_campaign, sign_in, screenshot):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/quality/{judged_campaign.slug}/")
    quinn_row = page.locator("#reviewer-table tr", has_text="quinn")
    # htmx swaps the control in place; the CSRF header comes from <body>.
    quinn_row.get_by_role("button", name="flag", exact=True).click()
    quinn_row.locator(".badge-bad", has_text="flagged").wait_for()
    page.reload()
    assert page.locator("#reviewer-table tr", has_text="quinn").locator(".badge-bad").is_visible()

    page.click("#reviewer-table >> text=quinn")
    page.wait_for_selector("#recent-judgments")
    page.locator("h1").get_by_role("button", name="unflag", exact=True).click()
    page.locator("h1").get_by_role("button", name="flag", exact=True).wait_for()
    assert page.locator("h1 .badge-bad").count() == 0

    page.locator("#recent-judgments tbody tr a").first.click()
    page.wait_for_selector("#pair-judgments")
    assert page.locator("#pair-judgments tbody tr").count() == 3
    assert page.is_visible("#answer-a >> text=atlas") and page.is_visible("#answer-b >> text=borealis")
    screenshot(page, "quality_pair")


def test_a_stale_dashboard_says_updating_and_reloads_when_fresh(page, live_server, lena, judged_campaign, sign_in):
    sign_in(page, "lena")
    url = f"{live_server.url}/quality/{judged_campaign.slug}/"
    page.goto(url)
    page.wait_for_selector("text=72 judgments on 24 pairs by 3 reviewers")
    comparison = judged_campaign.comparisons.first()
    reviewer = UserFactory(username="dora", role="reviewer")
    JudgmentFactory(
        assignment=AssignmentFactory(reviewer=reviewer, comparison=comparison, state=Assignment.State.SUBMITTED),
        comparison=comparison,
        reviewer=reviewer,
        outcome="a",
        strength="clear",
    )
    with mock.patch.object(refresh_quality_report, "delay") as delay:  # no broker: the test runs the task itself
        page.goto(url)
        page.wait_for_selector("#quality-updating >> text=Updating…")
        assert page.is_visible("text=72 judgments on 24 pairs by 3 reviewers")  # the previous report at once
        delay.assert_called_once_with(judged_campaign.pk, "human")
        refresh_quality_report(judged_campaign.pk)
        # The note polls every 2 s; the fresh report makes htmx reload the page.
        page.wait_for_selector("text=73 judgments on 24 pairs by 4 reviewers", timeout=10_000)
    assert page.locator("#quality-updating").count() == 0
