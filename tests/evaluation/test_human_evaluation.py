"""The run report's "Human evaluation" and the runs list's win-rate column, read from evaluation campaigns."""

from __future__ import annotations

import pytest

from evaluation.human_evaluation import human_evaluation_get, run_win_rates
from evaluation.leaderboard import leaderboard_get
from evaluation.selectors import run_evaluations
from tests.evaluation.judged import evaluated_run, judge, pair
from tests.factories import CampaignFactory, EscalationResolutionFactory, JudgmentFactory, ReviewerFlagFactory
from training.models import GenerationJob


@pytest.fixture
def evaluation_campaign(db):
    """The run (tuned) against the base model on three prompts, two locales, two scenarios; overlap 2:
    en-US/refund: won twice; en-US/billing: won, tied; ja-JP/refund: lost, both bad."""
    campaign = CampaignFactory(slug="eval-run", overlap=2)
    judge(pair(campaign, "tuned@run-1", "base@v1", locale="en-US", tags={"scenario": "refund"}), "a", "a")
    judge(pair(campaign, "base@v1", "tuned@run-1", locale="en-US", tags={"scenario": "billing"}), "b", "tie")
    judge(pair(campaign, "tuned@run-1", "base@v1", locale="ja-JP", tags={"scenario": "refund"}), "b", "both_bad")
    pair(campaign, "tuned@run-1", "base@v1", locale="ja-JP")  # not judged yet: two judgments open
    return campaign


def test_the_win_rate_against_the_baseline_is_the_hand_count_overall_per_locale_and_per_tag(evaluation_campaign):
    run = evaluated_run(evaluation_campaign)

    result = human_evaluation_get(evaluation=run_evaluations(run_id=run.id)[0])

    overall = result.overall
    assert (overall.wins, overall.losses, overall.ties, overall.both_bad) == (3, 1, 1, 1)
    assert overall.rate == pytest.approx(3.5 / 5)
    assert overall.interval[0] <= overall.rate <= overall.interval[1]
    assert overall.both_bad_share == pytest.approx(1 / 6)
    assert {row.label: row.rate for row in result.by_locale} == {"en-US": pytest.approx(3.5 / 4), "ja-JP": 0.0}
    by_tag = {row.label: (row.rate, row.both_bad) for row in result.by_tag}
    assert by_tag == {"scenario=billing": (0.75, 0), "scenario=refund": (pytest.approx(2 / 3), 1)}
    assert (result.run_model, result.baseline_model) == ("tuned@run-1", "base@v1")


def test_agreement_shows_when_overlap_is_over_one_and_open_judgments_count_what_is_left(evaluation_campaign):
    run = evaluated_run(evaluation_campaign)

    result = human_evaluation_get(evaluation=run_evaluations(run_id=run.id)[0])

    assert result.overlap == 2
    assert result.agreement_percent == pytest.approx(1 / 3)  # one of three judged pairs agrees
    assert result.agreement_alpha is not None and result.agreement_alpha < 0.5
    assert result.open_judgments == 2
    assert "campaigns=eval-run" in result.leaderboard_url and "baseline=base%40v1" in result.leaderboard_url


def test_without_overlap_no_agreement_is_computed(db):
    campaign = CampaignFactory(overlap=1)
    judge(pair(campaign, "tuned@run-1", "base@v1"), "a")
    run = evaluated_run(campaign)

    result = human_evaluation_get(evaluation=run_evaluations(run_id=run.id)[0])

    assert result.agreement_alpha is None and result.agreement_percent is None
    assert result.open_judgments == 0


def test_ai_judgments_stay_out_of_the_human_evaluation(db):
    campaign = CampaignFactory(overlap=1)
    comparison = pair(campaign, "tuned@run-1", "base@v1")
    judge(comparison, "b", source="ai")
    run = evaluated_run(campaign)

    assert human_evaluation_get(evaluation=run_evaluations(run_id=run.id)[0]).overall.rate is None


def test_judgments_of_flagged_reviewers_stay_out_of_the_human_evaluation_and_its_agreement(
    evaluation_campaign, client_for, lena
):
    run = evaluated_run(evaluation_campaign)
    lost = evaluation_campaign.comparisons.get(prompt__locale__code="ja-JP", judgments__outcome="b")
    ReviewerFlagFactory(
        reviewer=lost.judgments.get(outcome="b").reviewer, campaign=evaluation_campaign, flagged_by=lena
    )

    result = human_evaluation_get(evaluation=run_evaluations(run_id=run.id)[0])
    html = client_for(lena).get(f"/evaluation/runs/{run.id}/human-evaluation", HTTP_HX_REQUEST="true").content.decode()

    overall = result.overall
    assert (overall.wins, overall.losses, overall.ties, overall.both_bad) == (3, 0, 1, 1)
    assert result.flagged_judgments == 1
    assert result.agreement_percent == pytest.approx(1 / 2)  # the ja-JP pair has one counted judgment left
    assert run_win_rates(run_ids=[run.id])[run.id].rate == pytest.approx(3.5 / 4)
    assert "1 judgment of flagged reviewers left out" in html


def test_the_runs_list_gets_each_runs_win_rate(evaluation_campaign):
    run = evaluated_run(evaluation_campaign)

    rates = run_win_rates(run_ids=[run.id, run.id + 1000])

    assert list(rates) == [run.id]
    assert rates[run.id].rate == pytest.approx(0.7)


def test_a_newer_evaluation_still_waiting_does_not_hide_the_runs_win_rate(evaluation_campaign):
    from evaluation.models import EvaluationCampaign

    run = evaluated_run(evaluation_campaign)
    older = EvaluationCampaign.objects.get(run=run)
    waiting = CampaignFactory(slug="eval-run-2")
    EvaluationCampaign.objects.create(
        run=run,
        campaign=waiting,
        baseline=older.baseline,
        run_model=older.run_model,
        run_model_version=older.run_model_version,
        baseline_model=older.baseline_model,
        baseline_model_version=older.baseline_model_version,
    )

    row = run_win_rates(run_ids=[run.id])[run.id]

    assert row.rate == pytest.approx(0.7) and row.label == "eval-run-2, eval-run"


# --- pages -----------------------------------------------------------------------------------------------------


def test_the_run_page_loads_the_section_from_the_evaluation_app(evaluation_campaign, client_for, lena):
    run = evaluated_run(evaluation_campaign)

    page = client_for(lena).get(f"/training/runs/{run.id}/").content.decode()

    assert f'hx-get="/evaluation/runs/{run.id}/human-evaluation"' in page


def test_the_human_evaluation_fragment_shows_the_figures_and_the_leaderboard_link(
    evaluation_campaign, client_for, lena
):
    run = evaluated_run(evaluation_campaign)

    response = client_for(lena).get(f"/evaluation/runs/{run.id}/human-evaluation", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="win-rate">70.0%</strong>' in html
    assert "Still open: 2 judgments" in html
    assert "Krippendorff" in html
    assert 'data-slice="ja-JP"' in html and 'data-slice="scenario=refund"' in html
    assert "/evaluation/leaderboard?campaigns=eval-run&amp;source=human&amp;baseline=base%40v1" in html


def test_the_fragment_links_each_evaluation_and_its_generation_job_into_the_run_pages_lineage(
    evaluation_campaign, client_for, lena
):
    run = evaluated_run(evaluation_campaign)
    job = GenerationJob.objects.create(prompts_file="prompts.jsonl", target_slug="eval-run", status="succeeded")
    evaluation = run.evaluations.get()
    evaluation.generation_job = job
    evaluation.save(update_fields=["generation_job"])
    client = client_for(lena)

    page = client.get(f"/training/runs/{run.id}/").content.decode()
    html = client.get(f"/evaluation/runs/{run.id}/human-evaluation", HTTP_HX_REQUEST="true").content.decode()

    assert '<li id="lineage-evaluations">' in page  # the placeholder the fragment replaces
    swapped = html[html.index('<li id="lineage-evaluations" hx-swap-oob="true">') :]
    assert f'href="/evaluation/campaigns/{evaluation.id}/">eval-run</a>' in swapped
    assert f'href="/training/generation/{job.id}/">#{job.id}</a>, succeeded' in swapped
    assert f'href="/training/generation/{job.id}/">#{job.id}</a> (succeeded)' in html  # in the evaluation's own block


def test_a_run_never_evaluated_says_so(db, client_for, lena):
    run = evaluated_run(CampaignFactory())
    run.evaluations.all().delete()

    html = client_for(lena).get(f"/evaluation/runs/{run.id}/human-evaluation").content.decode()

    assert "Not evaluated by reviewers yet." in html
    assert f'href="/evaluation/runs/{run.id}/evaluate" id="evaluate-run-empty"' in html


@pytest.mark.parametrize("status", ["queued", "running", "failed", "cancelled"])
def test_a_run_that_has_not_succeeded_says_evaluation_opens_once_it_has(db, client_for, lena, status):
    run = evaluated_run(CampaignFactory())
    run.evaluations.all().delete()
    run.status = status
    run.save(update_fields=["status"])

    html = client_for(lena).get(f"/evaluation/runs/{run.id}/human-evaluation").content.decode()

    assert f"opens once the run has succeeded (it is {status})" in html
    assert f"/evaluation/runs/{run.id}/evaluate" not in html


def test_the_runs_list_asks_for_its_win_rates_in_one_request(evaluation_campaign, client_for, lena):
    run = evaluated_run(evaluation_campaign)
    client = client_for(lena)

    page = client.get("/training/").content.decode()
    cells = client.get(f"/evaluation/runs/win-rates?runs={run.id}", HTTP_HX_REQUEST="true").content.decode()

    assert f'hx-get="/evaluation/runs/win-rates?runs={run.id}"' in page
    assert f'<span id="win-rate-{run.id}">—</span>' in page
    assert f'id="win-rate-{run.id}" hx-swap-oob="true"' in cells and ">70.0%</span>" in cells
    assert client.get("/evaluation/runs/win-rates?runs=x").status_code == 400


def test_reviewers_may_not_read_a_runs_human_evaluation(evaluation_campaign, client_for, alice):
    run = evaluated_run(evaluation_campaign)

    assert client_for(alice).get(f"/evaluation/runs/{run.id}/human-evaluation").status_code == 403


def test_an_escalation_counts_once_resolved(evaluation_campaign):
    comparison = pair(evaluation_campaign, "tuned@run-1", "base@v1")
    EscalationResolutionFactory(judgment=JudgmentFactory(comparison=comparison, outcome="escalate"), decision="a")
    judge(comparison, "escalate")
    run = evaluated_run(evaluation_campaign)

    result = human_evaluation_get(evaluation=run_evaluations(run_id=run.id)[0])

    assert result.overall.wins == 4 and result.open_escalations == 1


def test_the_runs_list_reads_every_runs_win_rate_in_a_fixed_number_of_queries(
    evaluation_campaign, django_assert_max_num_queries
):
    first = evaluated_run(evaluation_campaign)
    other_campaign = CampaignFactory()
    judge(pair(other_campaign, "tuned@run-2", "base@v1"), "b", "b", "a")
    second = evaluated_run(other_campaign, run_model="tuned@run-2")
    third = evaluated_run(CampaignFactory(), run_model="tuned@run-3")

    with django_assert_max_num_queries(4):  # evaluations, candidates, active flags, judgments
        rates = run_win_rates(run_ids=[first.id, second.id, third.id])

    assert rates[first.id].rate == pytest.approx(0.7)
    assert rates[second.id].rate == pytest.approx(1 / 3)
    assert rates[third.id].rate is None


def test_several_runs_against_one_baseline_line_up_on_the_leaderboard(evaluation_campaign):
    other_campaign = CampaignFactory()
    judge(pair(other_campaign, "tuned@run-2", "base@v1"), "b", "b", "a")

    board = leaderboard_get(campaigns=[evaluation_campaign, other_campaign], baseline="base")

    rates = {row.label: row.win_rate for row in board.models}
    assert rates == {"tuned@run-1": pytest.approx(0.7), "tuned@run-2": pytest.approx(1 / 3), "base@v1": None}


def test_the_evaluation_page_shows_the_win_rate_and_links_the_leaderboard(evaluation_campaign, client_for, lena):
    from evaluation.models import EvaluationCampaign

    run = evaluated_run(evaluation_campaign)
    evaluation = EvaluationCampaign.objects.get(run=run)

    html = client_for(lena).get(f"/evaluation/campaigns/{evaluation.id}/").content.decode()

    assert "<strong>70.0%</strong>" in html and "3 won, 1 lost, 1 tied, 1 both bad" in html
    assert "/evaluation/leaderboard?campaigns=eval-run" in html
