"""Training pages and API: leads only, launch form, live progress fragment, report, comparison, downloads."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import TrainingRunFactory
from training.models import RunMetric, TrainingRun

Status = TrainingRun.Status

REPORT = {
    "num_pairs": 8,
    "dropped_over_length": 0,
    "preference_accuracy": 0.75,
    "reference_preference_accuracy": 0.5,
    "reward_margin": 0.0123,
    "eval_loss": 0.66,
    "metrics": {"rewards/chosen": 0.02, "rewards/rejected": 0.0077, "rewards/margins": 0.0123, "loss": 0.66},
    "slices": {
        "locale": {"en-US": {"count": 5, "preference_accuracy": 0.8, "reward_margin": 0.02}},
        "tag": {"factual": {"count": 3, "preference_accuracy": 0.6667, "reward_margin": 0.01}},
    },
    "kl": {"per_sequence": 0.0042, "per_token": 0.0003, "num_prompts": 2},
    "samples": [{"prompt": "Is the sky blue?", "adapter": "Yes, clear blue.", "reference": "No bird"}],
}


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("training.tasks.train_run.apply_async", lambda *a, **kw: calls.append(kw))
    return calls


@pytest.fixture
def finished_run(make_snapshot, tmp_path):
    out = tmp_path / "run-out"
    out.mkdir()
    for name in ("adapter_model.safetensors", "adapter_config.json", "README.md"):
        (out / name).write_text(name)
    (out / "checkpoints").mkdir()
    run = TrainingRunFactory(
        snapshot=make_snapshot(),
        status=Status.SUCCEEDED,
        step=30,
        total_steps=30,
        eval_report=REPORT,
        output_dir=str(out),
        lineage={"snapshot_version": 1, "manifest_sha256": "abc123", "code_version": "deadbee"},
    )
    RunMetric.objects.bulk_create(
        [RunMetric(run=run, step=s, metrics={"loss": 0.7 - s / 100, "rewards/margins": s / 100}) for s in (1, 2, 3)]
        + [RunMetric(run=run, step=4, metrics={"loss": 0.6, "eval/rewards/accuracies": 0.75})]
    )
    return run


@pytest.fixture
def running_run(make_snapshot):
    return TrainingRunFactory(snapshot=make_snapshot(), status=Status.RUNNING, step=12, eta_seconds=125.0)


def test_the_runs_list_shows_status_badges_and_links_to_train_on_snapshots(
    client_for, lena, finished_run, running_run, django_assert_num_queries
):
    client = client_for(lena)
    client.get(reverse("training:run_compare"))  # warm the session
    with django_assert_num_queries(8):  # session, user, roles, runs, workers, model count, snapshots (+campaigns)
        page = client.get(reverse("training:run_list"))
    assert page.status_code == 200
    assert b'class="badge status-succeeded"' in page.content and b'class="badge status-running"' in page.content
    snapshot = finished_run.snapshot
    assert f'href="{reverse("training:run_new")}?snapshot={snapshot.id}">snapshot v{snapshot.version}<' in (
        page.content.decode()
    )


def test_the_run_page_reads_in_a_fixed_number_of_queries(client_for, lena, finished_run, django_assert_num_queries):
    client = client_for(lena)
    client.get(reverse("training:run_compare"))
    # session, user, roles, run, and the lineage's campaigns, generations, runs before and after: nothing written
    with django_assert_num_queries(7):
        assert client.get(reverse("training:run_detail", args=[finished_run.id])).status_code == 200


def test_reviewers_are_refused_every_training_page_and_endpoint(client_for, alice, finished_run):
    client = client_for(alice)
    run_id = finished_run.id
    for name in ("run_list", "run_new", "model_list", "run_compare"):
        assert client.get(reverse(f"training:{name}")).status_code == 403
    for name in ("run_detail", "run_progress", "run_metrics", "run_adapter"):
        assert client.get(reverse(f"training:{name}", args=[run_id])).status_code == 403
    for name in ("run_cancel", "run_resume"):
        assert client.post(reverse(f"training:{name}", args=[run_id])).status_code == 403
    assert client.post("/api/v1/runs", {}, content_type="application/json").status_code == 403
    for suffix in ("", "/adapter"):
        assert client.get(f"/api/v1/runs/{run_id}{suffix}").status_code == 403
    for suffix in ("/cancel", "/resume"):
        assert client.post(f"/api/v1/runs/{run_id}{suffix}").status_code == 403


def test_the_progress_card_polls_while_running(client_for, lena, running_run, django_assert_num_queries):
    client = client_for(lena)
    client.get(reverse("training:run_list"))  # warm the session
    with django_assert_num_queries(4):  # session, user, roles, run: nothing written
        fragment = client.get(reverse("training:run_progress", args=[running_run.id]), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'step <strong class="step">12</strong> / 30' in html
    assert "ETA 2m 05s" in html and 'aria-valuenow="40"' in html and ">Cancel<" in html


def test_the_progress_card_stops_polling_and_reloads_when_the_run_ends(client_for, lena, finished_run):
    fragment = client_for(lena).get(
        reverse("training:run_progress", args=[finished_run.id]), headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 286 and fragment["HX-Refresh"] == "true"
    assert b"hx-trigger" not in fragment.content and b'aria-valuenow="100"' in fragment.content


def test_the_run_page_shows_the_report_with_baseline_slices_samples_and_lineage(client_for, lena, finished_run):
    page = client_for(lena).get(reverse("training:run_detail", args=[finished_run.id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<strong class="accuracy">75.0%</strong>' in html and "<strong>50.0%</strong>" in html
    assert "<td>en-US</td><td>5</td><td>80.0%</td>" in html and "<td>factual</td><td>3</td>" in html
    assert "Yes, clear blue." in html and "No bird" in html
    assert "abc123" in html and "deadbee" in html
    assert reverse("training:run_adapter", args=[finished_run.id]) in html


def test_the_metrics_endpoint_returns_chart_series_after_a_step(client_for, lena, finished_run):
    data = client_for(lena).get(reverse("training:run_metrics", args=[finished_run.id]) + "?after=2").json()
    assert data["steps"] == [3, 4]
    assert data["series"]["loss"]["train"] == pytest.approx([0.67, 0.6])
    assert data["series"]["accuracy"]["eval"] == [None, 0.75]


def test_the_adapter_downloads_as_a_zip_without_checkpoints(client_for, lena, finished_run):
    response = client_for(lena).get(reverse("training:run_adapter", args=[finished_run.id]))
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert sorted(names) == ["README.md", "adapter_config.json", "adapter_model.safetensors"]


def test_an_unfinished_run_has_no_adapter(client_for, lena, running_run):
    assert client_for(lena).get(reverse("training:run_adapter", args=[running_run.id])).status_code == 404


def test_two_runs_are_compared_side_by_side(client_for, lena, finished_run, make_snapshot):
    other = TrainingRunFactory(
        snapshot=make_snapshot(),
        status=Status.SUCCEEDED,
        eval_report={**REPORT, "preference_accuracy": 0.625},
        config={"beta": 0.5},
    )
    url = reverse("training:run_compare") + f"?runs={finished_run.id},{other.id}"
    html = client_for(lena).get(url).content.decode()
    assert "<td>0.7500</td><td>0.6250</td>" in html
    assert '<tr class="differs"><th>beta</th>' in html


def test_registering_a_model_outside_the_model_dirs_is_refused(client_for, lena, model_dirs, tmp_path):
    response = client_for(lena).post(reverse("training:model_list"), {"name": "x", "path": str(tmp_path)})
    assert response.status_code == 400 and b"is outside the model folders" in response.content


# --- API -----------------------------------------------------------------------------------------------------------


def test_the_api_launches_a_run_and_reports_its_progress(
    api_for, lena, make_snapshot, tiny_base_model, data_dir, sent, django_capture_on_commit_callbacks
):
    api = api_for(lena)
    body = {"snapshot": make_snapshot().id, "base_model": tiny_base_model.id, "preset": "quick"}
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post("/api/v1/runs", {**body, "overrides": {"max_steps": 5}}, format="json")
    assert created.status_code == 201
    run_id = created.json()["id"]
    detail = api.get(f"/api/v1/runs/{run_id}").json()
    assert detail["status"] == "queued" and detail["config"]["max_steps"] == 5 and detail["report"] is None
    assert detail["progress"] == {
        "step": 0,
        "total_steps": 0,
        "percent": 0,
        "eta_seconds": None,
        "pairs_per_second": None,
        "heartbeat_at": None,
    }
    assert len(sent) == 1


def test_the_api_answers_400_with_every_problem_and_queues_nothing(
    api_for, lena, make_snapshot, tiny_base_model, data_dir, sent
):
    api = api_for(lena)
    body = {"snapshot": make_snapshot().id, "base_model": tiny_base_model.id, "preset": "quick"}
    response = api.post("/api/v1/runs", {**body, "overrides": {"beta": 0, "loss_type": "nope"}}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert {"beta", "loss_type"} <= set(errors)
    assert api.post("/api/v1/runs", {"preset": "quick"}, format="json").json() == {
        "snapshot": ["This field is required."],
        "base_model": ["This field is required."],
    }
    assert TrainingRun.objects.count() == 0 and sent == []


def test_the_api_returns_the_report_once_succeeded_and_serves_the_adapter(api_for, lena, finished_run):
    api = api_for(lena)
    detail = api.get(f"/api/v1/runs/{finished_run.id}").json()
    assert detail["report"]["preference_accuracy"] == 0.75 and detail["progress"]["percent"] == 100
    response = api.get(f"/api/v1/runs/{finished_run.id}/adapter")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"


def test_the_api_cancels_and_resumes(api_for, lena, running_run, sent):
    api = api_for(lena)
    assert api.post(f"/api/v1/runs/{running_run.id}/cancel").json()["status"] == "running"
    running_run.refresh_from_db()
    assert running_run.cancel_requested
    assert api.post(f"/api/v1/runs/{running_run.id}/resume").status_code == 409
    TrainingRun.objects.filter(id=running_run.id).update(status=Status.CANCELLED)
    resumed = api.post(f"/api/v1/runs/{running_run.id}/resume")
    assert resumed.status_code == 202 and resumed.json()["status"] == "queued"
    assert api.post(f"/api/v1/runs/{running_run.id}/cancel").json()["status"] == "cancelled"


def test_report_json_round_trips_through_the_page_context(finished_run):
    from training.report import report_context

    context = report_context(run=finished_run)
    assert context["lift"] == pytest.approx(0.25)
    assert json.dumps(context) and Path(finished_run.output_dir).is_dir()


def test_the_snapshot_page_links_to_training_on_it(client_for, lena, data_dir):
    from annotate.export_policy import ExportPolicy
    from annotate.services.exporting import snapshot_create
    from tests.factories import CampaignFactory

    snapshot = snapshot_create(campaigns=[CampaignFactory()], policy=ExportPolicy(), created_by=None)
    html = client_for(lena).get(reverse("export_detail", args=[snapshot.id])).content.decode()
    assert f'href="{reverse("training:run_new")}?snapshot={snapshot.id}"' in html
