"""Runs a team can keep apart, and pages that only read: lost shown not written, sorting, comparing N runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import TrainingRunFactory
from training.models import RunMetric, TrainingRun

Status = TrainingRun.Status


def report(accuracy: float, reference: float, kl: float) -> dict:
    return {"preference_accuracy": accuracy, "reference_preference_accuracy": reference, "kl": {"per_sequence": kl}}


@pytest.fixture
def stale_run(make_snapshot, settings):
    settings.TRAINING_STALE_AFTER_S = 30
    return TrainingRunFactory(
        snapshot=make_snapshot(), status=Status.RUNNING, step=5, heartbeat_at=timezone.now() - timedelta(minutes=2)
    )


def test_no_page_or_endpoint_writes_on_get_and_a_stale_run_is_shown_lost(client_for, api_for, lena, stale_run):
    client, api = client_for(lena), api_for(lena)
    client.get(reverse("training:run_list"))  # sign-in and session writes happen before we watch
    beat = stale_run.heartbeat_at
    pages = {
        reverse("training:run_list"): b"status-lost",
        reverse("training:run_detail", args=[stale_run.id]): b"worker lost: no heartbeat since",
        reverse("training:run_progress", args=[stale_run.id]): b"worker lost: no heartbeat since",
        reverse("training:run_metrics", args=[stale_run.id]): b"steps",
        reverse("training:run_compare") + f"?runs={stale_run.id}": b"status-lost",
    }
    with CaptureQueriesContext(connection) as queries:
        for url, shown in pages.items():
            response = client.get(url)
            assert response.status_code == 200 and shown in response.content, url
        listed = api.get("/api/v1/runs").json()
        detail = api.get(f"/api/v1/runs/{stale_run.id}").json()
        api.get("/api/v1/training-workers")
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]
    assert writes == []
    assert listed[0]["shown_status"] == "lost" and (detail["status"], detail["shown_status"]) == ("running", "lost")
    stale_run.refresh_from_db()
    assert stale_run.status == Status.RUNNING and stale_run.heartbeat_at == beat and stale_run.error == ""


def test_a_lost_run_offers_resume_and_its_card_stops_polling(client_for, lena, stale_run):
    fragment = client_for(lena).get(
        reverse("training:run_progress", args=[stale_run.id]), headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 286 and b"hx-trigger" not in fragment.content
    assert b"Resume" in fragment.content and b">Cancel<" not in fragment.content


def test_resume_from_the_page_records_the_loss_and_queues_the_run(client_for, lena, stale_run, monkeypatch):
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: None)
    client_for(lena).post(reverse("training:run_resume", args=[stale_run.id]))
    stale_run.refresh_from_db()
    assert stale_run.status == Status.QUEUED and stale_run.error.startswith("worker lost")


def test_the_sweep_task_records_stale_runs_and_beat_sends_it_to_the_default_queue(stale_run, settings):
    from config.celery import app
    from training.tasks import sweep_lost_runs

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == sweep_lost_runs.name)
    assert entry["schedule"] <= 15
    assert app.amqp.router.route({}, sweep_lost_runs.name)["queue"].name == "celery"
    assert sweep_lost_runs.apply().get() == 1
    stale_run.refresh_from_db()
    assert stale_run.status == Status.FAILED and stale_run.error.startswith("worker lost")


def test_a_missing_run_is_a_404(client_for, api_for, lena, db):
    assert client_for(lena).get(reverse("training:run_detail", args=[424242])).status_code == 404
    assert client_for(lena).get(reverse("training:run_progress", args=[424242])).status_code == 404
    assert api_for(lena).get("/api/v1/runs/424242").status_code == 404


def test_a_finished_run_reads_finished_at_its_final_step(client_for, lena, make_snapshot):
    run = TrainingRunFactory(snapshot=make_snapshot(), status=Status.SUCCEEDED, step=30, checkpoint_step=20)
    html = client_for(lena).get(reverse("training:run_progress", args=[run.id])).content.decode()
    assert "finished at step 30" in html and "last checkpoint" not in html


def test_a_queued_run_says_it_waits_for_a_training_worker(client_for, lena, make_snapshot):
    run = TrainingRunFactory(snapshot=make_snapshot(), status=Status.QUEUED)
    html = client_for(lena).get(reverse("training:run_detail", args=[run.id])).content.decode()
    assert "Waiting for a training worker: none is running" in html


@pytest.fixture
def ranked_runs(make_snapshot):
    snapshot, now = make_snapshot(), timezone.now()
    rows = {
        "low": dict(eval_report=report(0.60, 0.55, 0.02), pairs_per_second=9.0, minutes=3),
        "best": dict(eval_report=report(0.80, 0.50, 0.10), pairs_per_second=3.0, minutes=10),
        "mid": dict(eval_report=report(0.70, 0.45, 0.01), pairs_per_second=5.0, minutes=1),
    }
    runs = {}
    for name, row in rows.items():
        runs[name] = TrainingRunFactory(
            snapshot=snapshot,
            name=name,
            status=Status.SUCCEEDED,
            eval_report=row["eval_report"],
            pairs_per_second=row["pairs_per_second"],
            started_at=now - timedelta(minutes=row["minutes"]),
            finished_at=now,
        )
    # A failed run with a tempting report is never ranked.
    runs["failed"] = TrainingRunFactory(
        snapshot=snapshot, name="failed", status=Status.FAILED, eval_report=report(0.99, 0.1, 0.0)
    )
    return runs


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("-accuracy", ["best", "mid", "low", "failed"]),
        ("accuracy", ["low", "mid", "best", "failed"]),
        ("-lift", ["best", "mid", "low", "failed"]),  # +0.30, +0.25, +0.05
        ("kl", ["mid", "low", "best", "failed"]),
        ("-duration", ["best", "low", "mid", "failed"]),
        ("-pairs_per_s", ["low", "mid", "best", "failed"]),
    ],
)
def test_the_runs_list_sorts_by_the_numbers_that_matter(client_for, lena, ranked_runs, sort, order):
    page = client_for(lena).get(reverse("training:run_list") + f"?sort={sort}")
    assert [run.name for run in page.context["runs"]] == order


def test_the_runs_list_shows_names_numbers_and_ignores_an_unknown_sort(client_for, lena, ranked_runs):
    page = client_for(lena).get(reverse("training:run_list") + "?sort=drop-table")
    html = page.content.decode()
    assert page.status_code == 200 and [run.name for run in page.context["runs"]][0] == "failed"  # newest first
    assert '<td class="num accuracy">80.0%</td>' in html and '<td class="num lift">+0.300</td>' in html
    assert f"#{ranked_runs['best'].id} best" in html and 'href="?sort=-lift"' in html


def test_three_runs_are_compared_with_overlaid_curves_and_only_the_settings_that_differ(client_for, lena, ranked_runs):
    runs = [ranked_runs[name] for name in ("low", "best", "mid")]
    for i, run in enumerate(runs):
        TrainingRun.objects.filter(id=run.id).update(config={**run.config, "beta": (0.1, 0.2, 0.5)[i], "lora_r": 8})
        RunMetric.objects.bulk_create(
            [RunMetric(run=run, step=s, metrics={"loss": 0.7 - s * (i + 1) / 100}) for s in (1, 2)]
        )
    url = reverse("training:run_compare") + "?runs=" + ",".join(str(run.id) for run in runs)
    page = client_for(lena).get(url)
    html = page.content.decode()
    assert [run.id for run in page.context["chosen"]] == [run.id for run in runs]
    assert [s["label"] for s in page.context["series"]] == [f"#{run.id} {run.name}" for run in runs]
    assert page.context["series"][1]["series"]["loss"]["train"] == pytest.approx([0.68, 0.66])
    differing = {row["label"]: row["values"] for row in page.context["rows"] if row.get("differs")}
    assert differing == {"beta": [0.1, 0.2, 0.5]} and '<tr class="differs"><th>beta</th>' in html
    assert "<th>lora_r</th>" not in html and "<th>output_dir</th>" not in html  # same everywhere, or per run
    assert "<td>0.6000</td><td>0.8000</td><td>0.7000</td>" in html  # held-out accuracy, in the asked order


def test_runs_ticked_on_the_list_arrive_as_repeated_parameters(client_for, lena, ranked_runs):
    a, b = ranked_runs["low"].id, ranked_runs["mid"].id
    page = client_for(lena).get(reverse("training:run_compare") + f"?runs={a}&runs={b}")
    assert [run.id for run in page.context["chosen"]] == [a, b]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("runs=1,x", 400, "runs: &#x27;x&#x27; is not a run id"),
        ("runs=" + ",".join(map(str, range(1, 30))), 400, "at most 20"),
    ],
)
def test_bad_run_lists_are_refused_naming_the_field(client_for, lena, db, query, status, message):
    response = client_for(lena).get(reverse("training:run_compare") + "?" + query)
    assert response.status_code == status and message in response.content.decode()


def test_comparing_a_missing_run_is_a_404(client_for, lena, ranked_runs):
    url = reverse("training:run_compare") + f"?runs={ranked_runs['low'].id},999999"
    assert client_for(lena).get(url).status_code == 404


def test_a_run_is_launched_with_a_name_and_notes_from_the_form_and_the_api(
    client_for, api_for, lena, make_snapshot, tiny_base_model, data_dir, monkeypatch
):
    from tests.training.test_launch_form import _form_data

    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: None)
    snapshot = make_snapshot()
    data = {**_form_data(snapshot, tiny_base_model), "name": "ipo-sweep", "notes": "β 0.5 on v3"}
    assert client_for(lena).post(reverse("training:run_new"), data).status_code == 302
    body = {"snapshot": snapshot.id, "base_model": tiny_base_model.id, "name": "api-run", "notes": "from a script"}
    created = api_for(lena).post("/api/v1/runs", body, format="json").json()
    assert (created["name"], created["notes"]) == ("api-run", "from a script")
    assert sorted(TrainingRun.objects.values_list("name", "notes")) == [
        ("api-run", "from a script"),
        ("ipo-sweep", "β 0.5 on v3"),
    ]
    page = client_for(lena).get(reverse("training:run_detail", args=[created["id"]])).content.decode()
    assert "Run #" in page and "· api-run</h1>" in page and "from a script" in page


def test_the_api_refuses_a_name_that_is_not_a_string(api_for, lena, make_snapshot, tiny_base_model, data_dir):
    body = {"snapshot": make_snapshot().id, "base_model": tiny_base_model.id, "name": 7}
    response = api_for(lena).post("/api/v1/runs", body, format="json")
    assert response.status_code == 400 and response.json() == {"name": ["Not a valid string."]}
