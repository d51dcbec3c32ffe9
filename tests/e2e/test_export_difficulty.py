"""A lead caps the longer answer's share and drops too-easy pairs in a real browser; the histograms follow."""

from __future__ import annotations

import pytest

from annotate.services.margin_logps import LogProbResult, candidate_logprobs_store
from tests.factories import CampaignFactory, CandidateFactory, ComparisonFactory, JudgmentFactory, PromptFactory

DIGEST = "ef" * 32
EASY = (0, 1, 8)


@pytest.fixture
def campaign(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    campaign = CampaignFactory(slug="autumn-eval", name="Autumn eval", overlap=1)
    for index in range(12):
        prompt = PromptFactory(campaign=campaign)
        # Eight pairs won by the longer answer, four by the shorter one.
        long, short = "a long and careful answer " * (1 + index % 4), "short"
        a, b = (long, short) if index < 8 else (short, long)
        comparison = ComparisonFactory(
            prompt=prompt,
            candidate_a=CandidateFactory(prompt=prompt, text=a),
            candidate_b=CandidateFactory(prompt=prompt, text=b),
        )
        JudgmentFactory(comparison=comparison, outcome="a")
        # The reference already prefers A by 3 nats per token in three pairs (two won by the longer answer).
        easy = 30.0 if index in EASY else 0.0
        results = [
            LogProbResult(comparison.candidate_a_id, -10.0 + easy, 10),
            LogProbResult(comparison.candidate_b_id, -10.0, 10),
        ]
        candidate_logprobs_store(model_digest=DIGEST, model_name="tiny", results=results)
    return campaign


def test_a_lead_sets_difficulty_knobs_and_sees_the_histograms(page, live_server, lena, campaign, sign_in, screenshot):
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/exports/new/")
    page.check("text=Autumn eval")
    page.wait_for_selector("text=12 of 12 pairs exported")
    assert "67%" in page.locator("#longer-share").inner_text()
    page.select_option("select[name=reference_model_digest]", DIGEST)
    page.wait_for_selector("text=Reference margin of the majority's answer")
    page.fill("input[name=max_margin_nats]", "1")
    page.press("input[name=max_margin_nats]", "Tab")
    page.wait_for_selector("text=9 of 12 pairs exported")
    assert page.locator("#count-too_easy").inner_text() == "3"
    # 6 of the 9 left are won by the longer answer: a cap of 0.5 drops 3 of those.
    page.fill("input[name=longer_answer_cap]", "0.5")
    page.press("input[name=longer_answer_cap]", "Tab")
    page.wait_for_selector("text=6 of 12 pairs exported")
    assert page.locator("#count-longer_answer_cap").inner_text() == "3"
    assert page.locator("#longer-share").inner_text().startswith("50%")
    assert page.locator("table.hist").count() == 2
    screenshot(page, "export_difficulty")
