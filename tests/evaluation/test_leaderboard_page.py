"""The lead's leaderboard page: picker, tabs per locale and tag, ratings with interval bars, the heatmap."""

from __future__ import annotations

import pytest

from tests.evaluation.judged import judge, pair
from tests.factories import CampaignFactory


@pytest.fixture
def campaign(db):
    campaign = CampaignFactory(slug="eval")
    judge(pair(campaign, "borealis@v1", "atlas@v1", locale="en-US", tags={"scenario": "refund"}), "a", "a", "b")
    judge(pair(campaign, "atlas@v1", "borealis@v1", locale="ja-JP", tags={"scenario": "billing"}), "b", "tie")
    judge(pair(campaign, "cirrus@v1", "borealis@v1", locale="ja-JP"), "b", "a")
    return campaign


def test_the_page_ranks_the_models_with_bars_and_a_heatmap(campaign, client_for, lena):
    response = client_for(lena).get("/evaluation/leaderboard?campaigns=eval&baseline=atlas")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index('data-model="borealis@v1"') < html.index('data-model="atlas@v1"')
    assert '<tr data-model="atlas@v1" class="baseline">' in html
    assert html.count("<svg viewBox") == 3
    assert 'id="win-rate-matrix"' in html and "75.0%" in html  # borealis over atlas: 3 won, 1 lost, 1 tied
    assert '<option value="eval" selected>' in html


def test_tabs_link_to_each_locale_and_tag_keeping_the_other_choices(campaign, client_for, lena):
    html = client_for(lena).get("/evaluation/leaderboard?campaigns=eval&baseline=atlas&locale=ja-JP").content.decode()

    assert 'href="?campaigns=eval&amp;baseline=atlas&amp;locale=en-US"' in html
    assert 'class="active" aria-current="page">ja-JP</a>' in html
    assert 'href="?campaigns=eval&amp;baseline=atlas&amp;locale=ja-JP&amp;tag=scenario%3Drefund"' in html
    assert 'data-model="borealis@v1"' in html and "75.0%" in html  # in ja-JP: borealis won once, tied once


def test_the_page_without_campaigns_invites_a_choice_and_an_unknown_one_is_a_400(campaign, client_for, lena):
    client = client_for(lena)

    assert "Pick one or more campaigns" in client.get("/evaluation/leaderboard").content.decode()
    response = client.get("/evaluation/leaderboard?campaigns=eval,nope")
    assert response.status_code == 400 and "campaigns: no such campaign: nope" in response.content.decode()
    response = client.get("/evaluation/leaderboard?campaigns=eval&baseline=zephyr")
    assert response.status_code == 400 and "baseline: " in response.content.decode()


def test_a_campaign_without_judgments_shows_the_empty_state(db, client_for, lena):
    CampaignFactory(slug="quiet")

    html = client_for(lena).get("/evaluation/leaderboard?campaigns=quiet").content.decode()

    assert 'id="leaderboard-empty"' in html and "No judgments yet under these filters." in html


def test_leads_see_the_leaderboard_in_the_top_bar_and_reviewers_are_refused(campaign, client_for, lena, alice):
    assert 'href="/evaluation/leaderboard"' in client_for(lena).get("/training/").content.decode()
    assert client_for(alice).get("/evaluation/leaderboard?campaigns=eval").status_code == 403


def test_the_page_reads_in_a_fixed_number_of_queries(campaign, client_for, lena, django_assert_max_num_queries):
    client = client_for(lena)
    for _ in range(5):
        judge(pair(campaign, "cirrus@v1", "atlas@v1", locale="en-US"), "a", "b")

    with django_assert_max_num_queries(12):
        response = client.get("/evaluation/leaderboard?campaigns=eval&baseline=atlas&locale=en-US")

    assert response.status_code == 200
