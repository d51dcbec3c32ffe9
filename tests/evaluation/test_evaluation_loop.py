"""The whole evaluation loop on a real Celery worker: a run on the tiny model is evaluated with reviewers, both
models answer its test-split prompts, two reviewers judge through the API, and the run report's win rate and the
leaderboard agree with a count made by hand from the judgments submitted."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from annotate.models import Assignment, Candidate, Judgment
from annotate.text import collapsed
from evaluation.human_evaluation import human_evaluation_get
from evaluation.models import EvaluationCampaign
from tests.training.worker import wait_for, worker_for
from training.tasks import generate_candidates

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHOICES = ("left", "right", "tie", "both_bad")


@pytest.fixture
def worker(tmp_path, monkeypatch):
    with worker_for(generate_candidates, tmp_path, monkeypatch) as worker:
        yield worker


def ratings_for(rubric: dict) -> dict:
    scores = {c["key"]: 3 for c in rubric["criteria"] if c.get("required")}
    return {"left": scores, "right": dict(scores)}


def judge_everything(client, slug: str, rng: random.Random) -> list[tuple[int, str]]:
    """Judge every pair the reviewer is offered with a seeded random choice; (assignment, choice) as submitted."""
    judged = []
    while (offered := client.post(f"/api/v1/campaigns/{slug}/next")).status_code == 200:
        pair = offered.json()
        assert "model" not in str(pair).lower()  # blind: reviewers see texts only
        choice = rng.choice(CHOICES)
        payload = {"choice": choice, "ratings": ratings_for(pair["rubric"])}
        payload |= {"strength": "clear"} if choice in ("left", "right") else {}
        payload |= {"critique": "neither answers the question"} if choice == "both_bad" else {}
        stored = client.post(f"/api/v1/assignments/{pair['assignment']}/judgment", payload, format="json")
        assert stored.status_code == 201, stored.json()
        judged.append((pair["assignment"], choice))
    assert offered.status_code == 204, offered.content
    return judged


def hand_count(judged: list[tuple[int, str]], evaluation: EvaluationCampaign) -> Counter:
    """The run's wins, losses, ties and both-bad against the baseline, from the choices as submitted: the side a
    reviewer picked, which candidate the assignment showed on that side, which model wrote it."""
    assignments = Assignment.objects.select_related("comparison__candidate_a", "comparison__candidate_b").in_bulk(
        [assignment_id for assignment_id, _ in judged]
    )
    count = Counter()
    for assignment_id, choice in judged:
        if choice in ("tie", "both_bad"):
            count[choice] += 1
            continue
        assignment = assignments[assignment_id]
        a, b = assignment.comparison.candidate_a, assignment.comparison.candidate_b
        chosen = a if (choice == "left") == assignment.a_on_left else b
        count["wins" if chosen.model_name == evaluation.run_model else "losses"] += 1
    # Identical answers of the two models to one prompt make no pair: each counts once as a tie.
    by_prompt: dict[int, dict[str, str]] = {}
    for candidate in Candidate.objects.filter(prompt__campaign=evaluation.campaign):
        by_prompt.setdefault(candidate.prompt_id, {})[candidate.model_name] = collapsed(candidate.text)
    count["tie"] += sum(1 for answers in by_prompt.values() if len(answers) == 2 and len(set(answers.values())) == 1)
    return count


def test_a_run_is_evaluated_judged_and_ranked_as_counted_by_hand(
    worker, adapter_run, tiny_base_model, lena, alice, bob, api_for, client_for
):
    body = {
        "run": adapter_run.id,
        "baseline": f"base:{tiny_base_model.id}",
        "overlap": 2,
        "temperature": 1.0,
        "max_new_tokens": 6,
        "seed": 3,
    }
    created = api_for(lena).post("/api/v1/evaluations", body, format="json")
    assert created.status_code == 201, created.json()
    evaluation_id = created.json()["id"]

    def state() -> dict:
        return api_for(lena).get(f"/api/v1/evaluations/{evaluation_id}").json()

    wait_for(lambda: state()["generation_job"]["status"] not in ("queued", "running"), timeout=180, message=worker.logs)
    done = state()
    assert done["generation_job"]["status"] == "succeeded", str(done["generation_job"]) + worker.logs()
    assert done["pairs"] > 0 and done["judgments_wanted"] == 2 * done["pairs"]
    worker.stop()  # its beat writes would contend with the reviewers' on SQLite

    slug = done["campaign"]
    judged = judge_everything(api_for(alice), slug, random.Random(1))
    judged += judge_everything(api_for(bob), slug, random.Random(2))
    assert len(judged) == Judgment.objects.filter(comparison__campaign__slug=slug).count() == 2 * done["pairs"]

    evaluation = EvaluationCampaign.objects.select_related("campaign").get(id=evaluation_id)
    count = hand_count(judged, evaluation)
    rated = count["wins"] + count["losses"] + count["tie"]
    expected_rate = (count["wins"] + count["tie"] / 2) / rated

    report = human_evaluation_get(evaluation=evaluation, resamples=200)
    overall = report.overall
    assert (overall.wins, overall.losses, overall.ties, overall.both_bad) == (
        count["wins"],
        count["losses"],
        count["tie"],
        count["both_bad"],
    )
    assert overall.rate == pytest.approx(expected_rate)
    assert report.open_judgments == 0 and report.overlap == 2

    query = {"campaigns": slug, "baseline": report.baseline_model}
    board = api_for(lena).get("/api/v1/leaderboard", query)
    assert board.status_code == 200, board.json()
    rows = {(row["model"], row["version"]): row for row in board.json()["models"]}
    run_row = rows[(evaluation.run_model, evaluation.run_model_version)]
    baseline_row = rows[(evaluation.baseline_model, evaluation.baseline_model_version)]
    assert run_row["win_rate"] == pytest.approx(expected_rate)
    assert baseline_row["win_rate"] is None and baseline_row["rating"] == pytest.approx(1000)

    # The run page's Human evaluation section (an htmx fragment) shows the same figure.
    fragment = client_for(lena).get(f"/evaluation/runs/{adapter_run.id}/human-evaluation").content.decode()
    assert f'<strong class="win-rate">{100 * expected_rate:.1f}%</strong>' in fragment
    assert f"{count['wins']} won, {count['losses']} lost, {count['tie']} tied" in fragment
