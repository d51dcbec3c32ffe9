"""The evaluation loop in a browser: a lead evaluates a run with reviewers, the answers are generated, a reviewer
judges with the keyboard, and the lead reads the run report's Human evaluation and the leaderboard."""

from __future__ import annotations

from collections import Counter

import pytest

from annotate.models import Assignment, Candidate, Judgment
from annotate.text import collapsed
from evaluation.models import EvaluationCampaign
from tests.evaluation.runs import exported_snapshot, make_adapter_run
from training.services import generation


@pytest.fixture
def run_to_evaluate(data_dir, tiny_base_model, tmp_path, monkeypatch):
    """A succeeded run on the tiny model, its snapshot exported from a judged campaign; no broker (the test runs
    the generation job itself, as tests/e2e/test_generation_page.py does)."""
    monkeypatch.setattr("training.tasks.generate_candidates.apply_async", lambda *a, **kw: None)
    return make_adapter_run(exported_snapshot(), tiny_base_model, tmp_path / "adapter-run")


def hand_count(campaign) -> Counter:
    """The run's wins, losses and ties from the stored judgments and the models of the candidates they chose."""
    evaluation = campaign.evaluation
    count = Counter()
    for judgment in Judgment.objects.filter(comparison__campaign=campaign).select_related(
        "comparison__candidate_a", "comparison__candidate_b"
    ):
        if judgment.outcome in ("tie", "both_bad"):
            count[judgment.outcome] += 1
            continue
        chosen = judgment.comparison.candidate_a if judgment.outcome == "a" else judgment.comparison.candidate_b
        count["wins" if chosen.model_name == evaluation.run_model else "losses"] += 1
    # Identical answers of the two models to one prompt make no pair: each counts once as a tie.
    answers: dict[int, set[str]] = {}
    for candidate in Candidate.objects.filter(prompt__campaign=campaign):
        answers.setdefault(candidate.prompt_id, set()).add(collapsed(candidate.text))
    count["tie"] += sum(1 for texts in answers.values() if len(texts) == 1)
    return count


def judge_with_keys(page, keys: list[str], screenshot=None) -> None:
    """Press the keys, then Enter; wait for the next pair (or the all-caught-up card) to swap in."""
    before = page.get_attribute("#compare", "data-assignment")
    for key in keys:
        page.keyboard.press(key)
    if screenshot:
        screenshot(page, "evaluation-review")
    page.keyboard.press("Enter")
    page.wait_for_function("(before) => document.querySelector('#compare')?.dataset.assignment !== before", arg=before)


def test_a_lead_evaluates_a_run_a_reviewer_judges_and_the_lead_reads_the_win_rate(
    page, live_server, sign_in, screenshot, lena, alice, run_to_evaluate, tiny_base_model
):
    run = run_to_evaluate
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/training/runs/{run.id}/")
    page.click("#evaluate-run")
    page.wait_for_selector("#evaluate-form")
    assert page.input_value("#id_baseline") == f"base:{tiny_base_model.id}"
    page.fill("#id_max_new_tokens", "6")
    page.fill("#id_temperature", "1")
    screenshot(page, "evaluation-form")
    page.click("button:has-text('Start the evaluation')")

    page.wait_for_selector("#evaluation-job")
    evaluation = EvaluationCampaign.objects.select_related("campaign", "generation_job").get()
    assert page.url.endswith(f"/evaluation/campaigns/{evaluation.id}/")
    assert "queued" in page.inner_text("#evaluation-job")
    assert generation.generation_job_execute(job_id=evaluation.generation_job_id) == "succeeded"
    page.reload()
    assert "succeeded" in page.inner_text("#evaluation-job")
    pairs = evaluation.campaign.comparisons.count()
    assert pairs > 0 and f"0 of {pairs} judgments" in page.inner_text("#evaluation-progress")
    screenshot(page, "evaluation-campaign")

    page.click("text=Sign out")
    sign_in(page, "alice")
    page.goto(f"{live_server.url}/review/{evaluation.campaign.slug}/")
    page.wait_for_selector("#judge-form")
    # The test (not the reviewer, who sees texts only) knows which side holds the run's answer, so it can prefer the
    # run four times, the baseline once, then tie: 1 = left, 2 = right (strength x), t = tie.
    plan = ["run", "run", "run", "run", "baseline", "tie"]
    for index in range(pairs):
        wanted = plan[index % len(plan)]
        assignment = Assignment.objects.select_related("comparison__candidate_a", "comparison__candidate_b").get(
            id=page.get_attribute("#compare", "data-assignment")
        )
        left = assignment.comparison.candidate_a if assignment.a_on_left else assignment.comparison.candidate_b
        run_on_left = left.model_name == evaluation.run_model
        keys = ["t"] if wanted == "tie" else ["1" if (wanted == "run") == run_on_left else "2", "x"]
        judge_with_keys(page, keys, screenshot if index == 0 else None)
    page.wait_for_selector("[data-empty]")
    assert Judgment.objects.filter(comparison__campaign=evaluation.campaign).count() == pairs

    page.click("text=Sign out")
    sign_in(page, "lena")
    page.goto(f"{live_server.url}/training/runs/{run.id}/")
    page.wait_for_selector("#human-evaluation .win-rate")
    count = hand_count(evaluation.campaign)
    planned = Counter(plan[index % len(plan)] for index in range(pairs))
    assert (count["wins"], count["losses"]) == (planned["run"], planned["baseline"])
    rate = (count["wins"] + count["tie"] / 2) / (count["wins"] + count["losses"] + count["tie"])
    assert page.inner_text("#human-evaluation .win-rate") == f"{100 * rate:.1f}%"
    assert f"{count['wins']} won, {count['losses']} lost, {count['tie']} tied" in page.inner_text("#human-evaluation")
    page.locator("#human-evaluation").scroll_into_view_if_needed()
    screenshot(page, "evaluation-run-report")

    page.click("#human-evaluation .leaderboard-link")
    page.wait_for_selector("#leaderboard")
    run_row = page.locator(f"#leaderboard tr[data-model='{evaluation.run_model}@{evaluation.run_model_version}']")
    assert run_row.locator(".win-rate").inner_text() == f"{100 * rate:.1f}%"
    screenshot(page, "evaluation-leaderboard")
