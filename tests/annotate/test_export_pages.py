"""Export pages, API and command: a lead exports and reads snapshots; reviewers cannot; bad input gets a message."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotate.export_policy import ExportPolicy
from annotate.models import DatasetSnapshot
from annotate.services.exporting import snapshot_create
from tests.factories import CampaignFactory, ComparisonFactory, JudgmentFactory, PromptFactory, UserFactory


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.DATA_DIR


@pytest.fixture
def campaign(db):
    """Two pairs all three reviewers agree on, one split 2–1 and one judged only once."""
    campaign = CampaignFactory(slug="helpful", overlap=3)
    reviewers = [UserFactory(role="reviewer") for _ in range(3)]
    for outcomes in (("a", "a", "a"), ("b", "b", "b"), ("a", "a", "b"), ("a",)):
        comparison = ComparisonFactory(prompt=PromptFactory(campaign=campaign))
        for reviewer, outcome in zip(reviewers, outcomes, strict=False):
            JudgmentFactory(comparison=comparison, reviewer=reviewer, outcome=outcome)
    return campaign


@pytest.fixture
def snapshot(campaign, lena):
    return snapshot_create(campaigns=[campaign], policy=ExportPolicy(test_share=0.0), created_by=lena)


def test_lead_exports_from_the_form_and_lands_on_the_snapshot(client_for, lena, campaign):
    response = client_for(lena).post(
        reverse("export_new"),
        {
            "campaigns": [campaign.id],
            "min_agreement": "0.6",
            "weighting": "majority",
            "weight": "agreement",
            "test_share": "0.1",
            "seed": "0",
        },
    )
    snapshot = DatasetSnapshot.objects.get()
    assert response.status_code == 302 and response.url == reverse("export_detail", args=[snapshot.id])
    assert snapshot.created_by == lena and snapshot.manifest["counts"]["exported"] == 3


def test_the_form_refuses_an_export_without_campaigns(client_for, lena, campaign):
    response = client_for(lena).post(reverse("export_new"), {"min_agreement": "2", "test_share": "0.1", "seed": "0"})
    assert response.status_code == 400 and b"This field is required" in response.content
    assert not DatasetSnapshot.objects.exists()


def test_new_page_wires_the_form_to_the_live_preview(client_for, lena, campaign):
    html = client_for(lena).get(reverse("export_new")).content.decode()
    assert f'hx-post="{reverse("export_preview")}"' in html and 'hx-trigger="change, load"' in html
    assert "helpful" in html


def test_preview_counts_follow_the_knobs(client_for, lena, campaign):
    client = client_for(lena)
    knobs = {
        "campaigns": [campaign.id],
        "weighting": "majority",
        "weight": "agreement",
        "test_share": "0.1",
        "seed": "0",
    }
    lenient = client.post(reverse("export_preview"), {**knobs, "min_agreement": "0.6"}, HTTP_HX_REQUEST="true")
    strict = client.post(reverse("export_preview"), {**knobs, "min_agreement": "0.9"}, HTTP_HX_REQUEST="true")
    assert b"3 of 4 pairs exported" in lenient.content
    assert b"2 of 4 pairs exported" in strict.content
    assert b'id="count-low_agreement">1<' in strict.content
    assert not DatasetSnapshot.objects.exists()


def test_preview_explains_what_is_missing(client_for, lena, campaign):
    empty = client_for(lena).post(reverse("export_preview"), {}, HTTP_HX_REQUEST="true")
    assert b"Choose at least one campaign" in empty.content
    bad = client_for(lena).post(
        reverse("export_preview"), {"campaigns": [campaign.id], "min_agreement": "7"}, HTTP_HX_REQUEST="true"
    )
    assert b"Fix the form" in bad.content and b"min_agreement" in bad.content


HUGE = "9" * 400  # far past a 64-bit id: SQLite raised OverflowError on it (a 500)


@pytest.mark.parametrize("campaigns", [HUGE, "0", "-3", "abc", "1e400", f"1,{HUGE}"])
def test_preview_and_form_name_a_campaign_id_that_cannot_be_one(client_for, lena, campaign, campaigns):
    client = client_for(lena)
    preview = client.get(reverse("export_preview"), {"campaigns": campaigns})
    assert preview.status_code == 400 and "campaigns: “" in preview.content.decode()
    assert b"is not a valid value" in preview.content
    swapped = client.post(reverse("export_preview"), {"campaigns": campaigns}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200 and b"Fix the form" in swapped.content  # htmx swaps 2xx only
    form = client.post(reverse("export_new"), {"campaigns": campaigns, "min_agreement": "0.6", "seed": "0"})
    assert form.status_code == 400 and b"is not a valid value" in form.content
    assert not DatasetSnapshot.objects.exists()


def test_preview_takes_campaigns_as_a_comma_list(client_for, lena, campaign):
    other = CampaignFactory(slug="other")
    response = client_for(lena).get(
        reverse("export_preview"),
        {"campaigns": f"{campaign.id},{other.id}", "min_agreement": "0.6", "weighting": "majority"}
        | {"weight": "agreement", "test_share": "0", "seed": "0"},
    )
    assert response.status_code == 200 and b"3 of 4 pairs exported" in response.content


@pytest.mark.parametrize(
    ("knob", "value"),
    [("min_agreement", "1.5"), ("min_agreement", "nan"), ("test_share", "1e400"), ("seed", "1e400"), ("seed", HUGE)]
    + [("min_judgments", "0"), ("min_judgments", "two"), ("weighting", "loudest")],
)
def test_a_bad_knob_replaces_the_counts_with_its_message(client_for, lena, campaign, knob, value):
    knobs = {"campaigns": [campaign.id], "min_agreement": "0.6", "weighting": "majority", "weight": "agreement"}
    knobs |= {"test_share": "0.1", "seed": "0", knob: value}
    response = client_for(lena).post(reverse("export_preview"), knobs, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "Fix the form" in body and f"{knob}:" in body
    assert "pairs exported" not in body


def test_the_preview_is_asked_for_whatever_the_browser_thinks_of_the_knobs(client_for, lena, campaign):
    html = client_for(lena).get(reverse("export_new")).content.decode()
    form = html[html.index('<form class="card"') :]
    form = form[: form.index(">")]
    # The browser's own checks would stop htmx from asking and leave the old counts on screen.
    assert " novalidate" in form and "hx-on::response-error" in form and "hx-on::send-error" in form


def test_snapshot_page_shows_manifest_chart_and_rows(client_for, lena, snapshot, django_assert_max_num_queries):
    client = client_for(lena)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("export_detail", args=[snapshot.id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="reason-chart-data"' in html and "chart.umd.min.js" in html
    assert 'id="reason-too_few_judgments">1<' in html
    assert "train.jsonl: first rows" in html and snapshot.manifest["files"]["train.jsonl"]["sha256"] in html


def test_snapshot_list_links_every_version(client_for, lena, snapshot, campaign):
    second = snapshot_create(campaigns=[campaign], policy=ExportPolicy(), created_by=None)
    html = client_for(lena).get(reverse("export_list")).content.decode()
    assert reverse("export_detail", args=[snapshot.id]) in html and reverse("export_detail", args=[second.id]) in html
    assert "command line" in html


def test_file_download_serves_the_snapshot_bytes_and_nothing_else(client_for, lena, snapshot):
    client = client_for(lena)
    response = client.get(reverse("export_file", args=[snapshot.id, "train.jsonl"]))
    assert b"".join(response.streaming_content) == (Path(snapshot.path) / "train.jsonl").read_bytes()
    assert client.get(reverse("export_file", args=[snapshot.id, "verdict.sqlite3"])).status_code == 404
    assert client.get(reverse("export_file", args=[999999, "train.jsonl"])).status_code == 404


def test_reviewers_cannot_see_or_make_snapshots(client_for, api_for, alice, snapshot, campaign):
    assert client_for(alice).get(reverse("export_detail", args=[snapshot.id])).status_code == 403
    assert client_for(alice).get(reverse("export_file", args=[snapshot.id, "train.jsonl"])).status_code == 403
    api = api_for(alice)
    assert api.post(reverse("api_snapshots"), {"campaigns": ["helpful"]}, format="json").status_code == 403
    assert api.get(reverse("api_snapshot_file", args=[snapshot.id, "train.jsonl"])).status_code == 403
    assert DatasetSnapshot.objects.count() == 1


def test_api_creates_a_snapshot_and_serves_its_files(api_for, lena, campaign):
    api = api_for(lena)
    response = api.post(
        reverse("api_snapshots"),
        {"campaigns": ["helpful"], "policy": {"min_agreement": 0.9, "test_share": 0}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1 and body["counts"]["per_split"]["train"] == 2 and body["policy"]["min_agreement"] == 0.9
    assert set(body["files"]) == {"train.jsonl", "test.jsonl", "ties.jsonl", "excluded.jsonl", "manifest.json"}
    served = api.get(reverse("api_snapshot_file", args=[body["id"], "train.jsonl"]))
    assert served.status_code == 200
    assert [json.loads(line)["meta"]["agreement"] for line in b"".join(served.streaming_content).splitlines()] == [
        1.0,
        1.0,
    ]
    assert api.get(reverse("api_snapshot_file", args=[body["id"], "verdict.sqlite3"])).status_code == 404
    assert api.get(reverse("api_snapshot_detail", args=[body["id"]])).json()["manifest"]["version"] == 1
    assert [s["id"] for s in api.get(reverse("api_snapshots")).json()["snapshots"]] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"campaigns": []}, ("campaigns", "This list may not be empty.")),
        ({"campaigns": ["nope"]}, ("campaigns", "no campaign named nope")),
        ({"campaigns": ["helpful"], "policy": {"min_agreement": 3}}, ("policy.min_agreement", "between 0 and 1")),
        ({"campaigns": ["helpful"], "policy": {"loudness": 3}}, ("policy.loudness", "not a policy setting")),
    ],
)
def test_api_rejects_bad_requests_with_a_message(api_for, lena, campaign, payload, message):
    response = api_for(lena).post(reverse("api_snapshots"), payload, format="json")
    field, text = message
    assert response.status_code == 400 and text in response.json()[field][0]
    assert not DatasetSnapshot.objects.exists()


def test_api_404s_for_an_unknown_snapshot(api_for, lena, db):
    assert api_for(lena).get(reverse("api_snapshot_file", args=[999999, "train.jsonl"])).status_code == 404


def test_command_exports_and_copies_to_out(campaign, tmp_path):
    out = StringIO()
    call_command(
        "export_snapshot",
        "--campaign",
        "helpful",
        "--out",
        str(tmp_path / "out"),
        "--min-agreement",
        "0.9",
        "--test-share",
        "0",
        stdout=out,
    )
    snapshot = DatasetSnapshot.objects.get()
    assert "snapshot v1: 4 pairs, 2 train, 0 test, 0 ties, 2 excluded" in out.getvalue()
    assert (tmp_path / "out" / "train.jsonl").read_bytes() == (Path(snapshot.path) / "train.jsonl").read_bytes()
    assert snapshot.created_by is None and snapshot.policy["min_agreement"] == 0.9


def test_command_names_what_is_wrong(campaign):
    with pytest.raises(CommandError, match="no campaign named nope"):
        call_command("export_snapshot", "--campaign", "nope")
    with pytest.raises(CommandError, match="test_share"):
        call_command("export_snapshot", "--campaign", "helpful", "--test-share", "1.5")


def test_export_link_is_in_the_nav_for_leads_only(client_for, lena, alice):
    assert reverse("export_list").encode() in client_for(lena).get(reverse("home")).content
    assert reverse("export_list").encode() not in client_for(alice).get(reverse("home")).content


def test_snapshot_list_queries_do_not_grow_with_snapshots(client_for, lena, campaign, django_assert_max_num_queries):
    for _ in range(3):
        snapshot_create(campaigns=[campaign], policy=ExportPolicy(), created_by=lena)
    client = client_for(lena)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("export_list")).status_code == 200
