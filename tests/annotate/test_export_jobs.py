"""Export jobs: large exports are queued for a worker and followed by a progress card and a status URL."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotate import tasks
from annotate.export_policy import ExportPolicy
from annotate.models import DatasetSnapshot, ExportJob
from annotate.services import export_jobs
from annotate.services.export_jobs import (
    export_job_create,
    export_job_execute,
    export_job_progress,
)
from annotate.services.exporting import ExportError
from tests.factories import CampaignFactory, ComparisonFactory, JudgmentFactory, PromptFactory, UserFactory

FORM = {"min_agreement": "0.6", "weighting": "majority", "weight": "agreement", "test_share": "0", "seed": "0"}


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.EXPORT_PROGRESS_INTERVAL_S = 0.0
    return settings.DATA_DIR


@pytest.fixture
def queued(settings):
    """Every export counts as large: it is queued rather than run in the request."""
    settings.EXPORT_INLINE_MAX_JUDGMENTS = 0


@pytest.fixture
def enqueued(monkeypatch):
    """The task ids sent to the broker (nothing leaves the process)."""
    sent: list[tuple] = []
    monkeypatch.setattr(
        tasks.run_export_job, "apply_async", lambda args=(), kwargs=None, **options: sent.append(tuple(args))
    )
    return sent


@pytest.fixture
def campaign(db):
    """Three pairs all reviewers agree on and one split 2–1: four pairs, eleven judgments."""
    campaign = CampaignFactory(slug="helpful", overlap=3)
    reviewers = [UserFactory(role="reviewer") for _ in range(3)]
    for outcomes in (("a", "a", "a"), ("b", "b", "b"), ("a", "a", "b"), ("a", "a")):
        comparison = ComparisonFactory(prompt=PromptFactory(campaign=campaign))
        for reviewer, outcome in zip(reviewers, outcomes, strict=False):
            JudgmentFactory(comparison=comparison, reviewer=reviewer, outcome=outcome)
    return campaign


@pytest.fixture
def job(queued, enqueued, campaign, lena, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return export_job_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.0), requested_by=lena)


def test_a_large_export_is_queued_on_commit_with_its_pair_count(
    queued, enqueued, campaign, lena, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_create(campaigns=[campaign], policy=ExportPolicy(min_agreement=0.9), requested_by=lena)
    assert enqueued == [] and len(callbacks) == 1  # nothing leaves before the commit
    callbacks[0]()
    assert enqueued == [(job.id,)]
    job.refresh_from_db()
    assert job.status == "queued" and job.total_pairs == 4 and job.requested_by == lena
    assert job.policy["min_agreement"] == 0.9 and list(job.campaigns.all()) == [campaign]
    assert not DatasetSnapshot.objects.exists()


def test_a_small_export_runs_in_the_request(enqueued, campaign, lena, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = export_job_create(campaigns=[campaign], policy=ExportPolicy(), requested_by=lena)
    assert enqueued == []
    assert job.status == "succeeded" and job.snapshot == DatasetSnapshot.objects.get()
    assert job.pairs_done == job.total_pairs == 4


def test_an_export_without_campaigns_records_and_queues_nothing(queued, enqueued, db, lena):
    with pytest.raises(ExportError, match="choose at least one campaign"):
        export_job_create(campaigns=[], policy=ExportPolicy(), requested_by=lena)
    assert not ExportJob.objects.exists() and enqueued == []


def test_the_task_exports_and_records_the_snapshot(job):
    assert tasks.run_export_job(job.id) == "succeeded"
    job.refresh_from_db()
    snapshot = DatasetSnapshot.objects.get()
    assert job.status == "succeeded" and job.snapshot == snapshot and job.error == ""
    assert job.started_at <= job.finished_at and snapshot.created_by == job.requested_by
    assert (job.pairs_done, job.total_pairs) == (4, 4) and snapshot.policy == job.policy


def test_a_second_delivery_of_the_task_does_nothing(job):
    assert export_job_execute(job_id=job.id) == "succeeded"
    assert tasks.run_export_job(job.id) is None
    assert DatasetSnapshot.objects.count() == 1


def test_a_running_job_reports_pairs_done_as_it_goes(job, monkeypatch):
    seen = []

    class Spy(export_jobs._ProgressWriter):
        def __call__(self, pairs_done: int) -> None:
            super().__call__(pairs_done)
            running = ExportJob.objects.get(id=job.id)
            seen.append((running.status, *export_job_progress(job=running)))

    monkeypatch.setattr(export_jobs, "_ProgressWriter", Spy)
    export_job_execute(job_id=job.id)
    assert seen == [("running", 1, 4), ("running", 2, 4), ("running", 3, 4), ("running", 4, 4)]
    assert export_job_progress(job=ExportJob.objects.get(id=job.id)) == (4, 4)


def test_progress_writes_are_throttled(job):
    now = [0.0]
    writer = export_jobs._ProgressWriter(job.id, interval_s=0.5, clock=lambda: now[0])
    ExportJob.objects.filter(id=job.id).update(status="running")
    running = ExportJob.objects.get(id=job.id)
    writer(1)
    now[0] = 0.2
    writer(2)  # too soon: not written
    assert export_job_progress(job=running) == (1, 4)
    now[0] = 0.6
    writer(3)
    assert export_job_progress(job=running) == (3, 4)


def test_a_failed_export_is_recorded_with_a_message(job, monkeypatch):
    def broken(**kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_jobs, "snapshot_create", broken)
    assert tasks.run_export_job(job.id) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.snapshot is None and job.finished_at is not None
    assert "No space left on device" in job.error and "try again" in job.error


def test_an_export_error_is_recorded_as_its_own_message(job, monkeypatch):
    def refused(**kwargs):
        raise ExportError("could not claim a snapshot version after 10 tries; try again")

    monkeypatch.setattr(export_jobs, "snapshot_create", refused)
    export_job_execute(job_id=job.id)
    assert ExportJob.objects.get(id=job.id).error == "could not claim a snapshot version after 10 tries; try again"


# --- pages ---------------------------------------------------------------------------------------------------------


def test_the_form_queues_a_large_export_and_lands_on_its_progress_page(
    client_for, lena, queued, enqueued, campaign, django_capture_on_commit_callbacks
):
    client = client_for(lena)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("export_new"), {**FORM, "campaigns": [campaign.id]})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("export_job", args=[job.id])
    assert enqueued == [(job.id,)] and not DatasetSnapshot.objects.exists()
    html = client.get(response.url).content.decode()
    assert f'hx-get="{reverse("export_job", args=[job.id])}"' in html and 'hx-trigger="every 1s"' in html
    assert "0</strong> of 4 pairs read" in html and "queued" in html


def test_the_form_refuses_bad_knobs_without_queueing(client_for, lena, queued, enqueued, campaign):
    response = client_for(lena).post(reverse("export_new"), {**FORM, "campaigns": [campaign.id], "min_agreement": "2"})
    assert response.status_code == 400 and b"min_agreement" in response.content
    assert not ExportJob.objects.exists() and enqueued == []


def test_a_small_export_that_fails_in_the_request_says_why(client_for, lena, campaign, monkeypatch):
    def broken(**kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_jobs, "snapshot_create", broken)
    response = client_for(lena).post(reverse("export_new"), {**FORM, "campaigns": [campaign.id]})
    assert response.status_code == 400 and b"No space left on device" in response.content


def test_the_progress_card_polls_until_done_then_stops_with_286(client_for, lena, job, django_assert_max_num_queries):
    client = client_for(lena)
    url = reverse("export_job", args=[job.id])
    with django_assert_max_num_queries(4):
        polling = client.get(url, HTTP_HX_REQUEST="true")
    assert polling.status_code == 200 and 'hx-trigger="every 1s"' in polling.content.decode()
    assert "<html" not in polling.content.decode()
    export_job_execute(job_id=job.id)
    snapshot = DatasetSnapshot.objects.get()
    done = client.get(url, HTTP_HX_REQUEST="true")
    html = done.content.decode()
    assert done.status_code == 286 and "hx-trigger" not in html
    assert "4</strong> of 4 pairs read (100%)" in html and reverse("export_detail", args=[snapshot.id]) in html
    assert done["HX-Redirect"] == reverse("export_detail", args=[snapshot.id])
    assert client.get(url).status_code == 200  # the full page still shows once done


def test_the_progress_card_shows_a_failure_and_stops(client_for, lena, job, monkeypatch):
    monkeypatch.setattr(export_jobs, "snapshot_create", lambda **kwargs: 1 / 0)
    export_job_execute(job_id=job.id)
    response = client_for(lena).get(reverse("export_job", args=[job.id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286 and "HX-Redirect" not in response
    assert b'role="alert"' in response.content and b"ZeroDivisionError" in response.content


def test_an_unknown_job_is_404(client_for, api_for, lena, db):
    assert client_for(lena).get(reverse("export_job", args=[999999])).status_code == 404
    assert api_for(lena).get(reverse("api_export_job", args=[999999])).status_code == 404


def test_reviewers_cannot_follow_export_jobs(client_for, api_for, alice, job):
    assert client_for(alice).get(reverse("export_job", args=[job.id])).status_code == 403
    assert api_for(alice).get(reverse("api_export_job", args=[job.id])).status_code == 403


# --- API -----------------------------------------------------------------------------------------------------------


def test_api_queues_a_large_export_with_202_and_a_status_url(
    api_for, lena, queued, enqueued, campaign, django_capture_on_commit_callbacks
):
    api = api_for(lena)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("api_snapshots"), {"campaigns": ["helpful"], "policy": {"test_share": 0}}, format="json"
        )
    body = response.json()
    job = ExportJob.objects.get()
    status_url = f"http://testserver{reverse('api_export_job', args=[job.id])}"
    assert response.status_code == 202 and response["Location"] == status_url
    assert body["id"] == job.id and body["status"] == "queued" and body["status_url"] == status_url
    assert body["snapshot_id"] is None and enqueued == [(job.id,)]
    export_job_execute(job_id=job.id)
    status = api.get(body["status_url"]).json()
    snapshot = DatasetSnapshot.objects.get()
    assert status["status"] == "succeeded" and status["snapshot_id"] == snapshot.id
    assert (status["pairs_done"], status["total_pairs"]) == (4, 4) and status["error"] is None
    assert api.get(status["snapshot_url"]).json()["version"] == snapshot.version


def test_api_reports_a_failed_job(api_for, lena, job, monkeypatch):
    monkeypatch.setattr(export_jobs, "snapshot_create", lambda **kwargs: 1 / 0)
    export_job_execute(job_id=job.id)
    status = api_for(lena).get(reverse("api_export_job", args=[job.id])).json()
    assert status["status"] == "failed" and "ZeroDivisionError" in status["error"] and status["snapshot_id"] is None


def test_api_answers_a_small_export_at_once_with_201(api_for, lena, enqueued, campaign):
    response = api_for(lena).post(reverse("api_snapshots"), {"campaigns": ["helpful"]}, format="json")
    body = response.json()
    assert response.status_code == 201 and body["job"]["status"] == "succeeded"
    assert body["job"]["snapshot_id"] == body["id"] == DatasetSnapshot.objects.get().id and enqueued == []


def test_api_refuses_bad_knobs_without_queueing(api_for, lena, queued, enqueued, campaign):
    response = api_for(lena).post(
        reverse("api_snapshots"), {"campaigns": ["helpful"], "policy": {"loudness": 3}}, format="json"
    )
    assert response.status_code == 400 and "not a policy setting" in response.json()["policy.loudness"][0]
    assert not ExportJob.objects.exists() and enqueued == []
