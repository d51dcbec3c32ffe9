"""Every bad input to the API is a 4xx in the one error body, naming the field; never a 500.

The bodies are sent as raw text: `1e400`, `NaN` and 5,000-level nesting cannot be written with Python's json.dumps.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotate.models import Campaign, DatasetSnapshot, Judgment
from annotate.services.judging import CRITIQUE_MAX_LENGTH
from tests.annotate.review_helpers import campaign_with_pairs, rubric_with
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

HUGE_ID = "9" * 400
DEEP = "[" * 5000 + "]" * 5000


def post_raw(api, url: str, body: str):
    return api.post(url, data=body, content_type="application/json")


def assert_error_body(response, status: int, field: str) -> dict:
    """The one 4xx shape: {"field": ["message", ...]} and "detail" as a single string."""
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body, body
    for key, value in body.items():
        if key == "detail":
            assert isinstance(value, str) and value
        else:
            assert isinstance(value, list) and value and all(isinstance(m, str) and m for m in value)
    return body


@pytest.fixture
def judgment_url(api_for, alice):
    campaign, _ = campaign_with_pairs(
        1, rubric=rubric_with({"key": "accuracy", "label": "Accuracy", "scale": 5, "required": False})
    )
    assignment = api_for(alice).post(reverse("api_next_assignment", args=[campaign.slug])).json()["assignment"]
    return reverse("api_assignment_judgment", args=[assignment])


GOOD_JUDGMENT = '"choice": "tie"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(f'{{{GOOD_JUDGMENT}, "critique": 5}}', "critique", id="critique-number"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "critique": ["a", "b"]}}', "critique", id="critique-list"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "critique": {{"a": 1}}}}', "critique", id="critique-object"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": "1200"}}', "time_taken_ms", id="time-string"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": 12.5}}', "time_taken_ms", id="time-fraction"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": -1}}', "time_taken_ms", id="time-negative"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": {HUGE_ID}}}', "time_taken_ms", id="time-400-digits"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "ratings": [1, 2]}}', "ratings", id="ratings-list"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "ratings": "good"}}', "ratings", id="ratings-string"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "ratings": {{"left": 4}}}}', "ratings.left", id="ratings-side-number"),
        pytest.param(
            f'{{{GOOD_JUDGMENT}, "ratings": {{"left": {{"accuracy": "4"}}}}}}',
            "ratings.left.accuracy",
            id="rating-string",
        ),
        pytest.param(
            f'{{{GOOD_JUDGMENT}, "ratings": {{"left": {{"accuracy": 4.5}}}}}}',
            "ratings.left.accuracy",
            id="rating-fraction",
        ),
        pytest.param(
            f'{{{GOOD_JUDGMENT}, "ratings": {{"left": {{"accuracy": 99}}}}}}',
            "ratings.left.accuracy",
            id="rating-off-scale",
        ),
        pytest.param(
            f'{{{GOOD_JUDGMENT}, "ratings": {{"left": {{"nonsense": 3}}}}}}',
            "ratings.left.nonsense",
            id="rating-unknown-criterion",
        ),
        pytest.param('{"choice": "maybe"}', "choice", id="choice-unknown"),
        pytest.param('{"choice": ["left"]}', "choice", id="choice-list"),
        pytest.param('{"choice": "left", "strength": "enormous"}', "strength", id="strength-unknown"),
        pytest.param('{"choice": "left"}', "strength", id="strength-missing"),
        pytest.param("{}", "choice", id="empty-object"),
        pytest.param("null", "detail", id="null-body"),
        pytest.param('["choice", "tie"]', "detail", id="array-body"),
        pytest.param('"tie"', "detail", id="string-body"),
        pytest.param("{", "detail", id="malformed"),
    ],
)
def test_bad_judgments_are_400_naming_the_field(api_for, alice, judgment_url, body, field):
    assert_error_body(post_raw(api_for(alice), judgment_url, body), 400, field)
    assert not Judgment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": 1e400}}', id="time-1e400"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "ratings": {{"left": {{"accuracy": 1e400}}}}}}', id="rating-1e400"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "ratings": {{"left": {{"accuracy": -1e400}}}}}}', id="rating--1e400"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": NaN}}', id="time-NaN"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": Infinity}}', id="time-Infinity"),
        pytest.param(DEEP, id="deep-array"),
        pytest.param('{"a":' * 5000 + "1" + "}" * 5000, id="deep-object"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "critique": ' + "[" * 40 + "]" * 40 + "}", id="past-depth-limit"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "time_taken_ms": 1{"0" * 5000}}}', id="int-past-python-limit"),
        pytest.param(f'{{{GOOD_JUDGMENT}, "critique": "a\\u0000b"}}', id="NUL-in-text"),
    ],
)
def test_json_python_reads_but_no_column_holds_is_refused_by_the_parser(api_for, alice, judgment_url, body):
    message = assert_error_body(post_raw(api_for(alice), judgment_url, body), 400, "detail")["detail"]
    assert message.startswith("JSON parse error")
    assert not Judgment.objects.exists()


def test_a_critique_over_the_limit_is_refused_and_one_at_the_limit_is_stored(api_for, alice, judgment_url):
    api = api_for(alice)
    too_long = {"choice": "tie", "critique": "x" * (CRITIQUE_MAX_LENGTH + 1)}
    assert_error_body(api.post(judgment_url, too_long, format="json"), 400, "critique")
    at_limit = {"choice": "tie", "critique": "x" * CRITIQUE_MAX_LENGTH}
    assert api.post(judgment_url, at_limit, format="json").status_code == 201


def test_a_judgment_on_a_closed_campaign_is_409_over_the_api(api_for, alice, judgment_url):
    Campaign.objects.update(status=Campaign.Status.CLOSED)
    body = assert_error_body(api_for(alice).post(judgment_url, {"choice": "tie"}, format="json"), 409, "campaign")
    assert "closed" in body["campaign"][0]
    assert not Judgment.objects.exists()


def test_a_json_body_over_the_upload_limit_is_413(api_for, alice, judgment_url, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"choice": "tie", "critique": "x" * 2000})
    assert_error_body(post_raw(api_for(alice), judgment_url, body), 413, "detail")


def test_forms_are_not_accepted_where_json_is_expected(api_for, alice, judgment_url):
    response = api_for(alice).post(judgment_url, {"choice": "tie"})  # multipart
    assert_error_body(response, 415, "detail")


@pytest.mark.parametrize(
    ("url", "method"),
    [
        (f"/api/v1/assignments/{HUGE_ID}/judgment", "post"),
        (f"/api/v1/snapshots/{HUGE_ID}", "get"),
        (f"/api/v1/snapshots/{HUGE_ID}/files/train.jsonl", "get"),
        (f"/api/v1/export-jobs/{HUGE_ID}", "get"),
        (f"/api/v1/runs/{HUGE_ID}", "get"),
        (f"/api/v1/runs/{HUGE_ID}/cancel", "post"),
        (f"/api/v1/runs/{HUGE_ID}/resume", "post"),
        (f"/api/v1/runs/{HUGE_ID}/adapter", "get"),
    ],
)
def test_400_digit_ids_in_paths_are_404(api_for, lena, url, method):
    # The `id` path converter does not match a number past 2**63 - 1: no route, Django's 404 (never the database).
    response = getattr(api_for(lena), method)(url, {"choice": "tie"}, format="json")
    assert response.status_code == 404


# ---- exports ----


@pytest.fixture
def helpful(db):
    return CampaignFactory(slug="helpful")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param('{"campaigns": ["helpful"], "policy": true}', "policy", id="policy-boolean"),
        pytest.param('{"campaigns": ["helpful"], "policy": 3}', "policy", id="policy-number"),
        pytest.param('{"campaigns": ["helpful"], "policy": "strict"}', "policy", id="policy-string"),
        pytest.param('{"campaigns": ["helpful"], "policy": [1, 2]}', "policy", id="policy-list"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"seed": true}}', "policy.seed", id="seed-boolean"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"seed": -1}}', "policy.seed", id="seed-negative"),
        pytest.param(f'{{"campaigns": ["helpful"], "policy": {{"seed": {HUGE_ID}}}}}', "policy.seed", id="seed-huge"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"seed": [0]}}', "policy.seed", id="seed-list"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"seed": 1.5}}', "policy.seed", id="seed-fraction"),
        pytest.param(
            '{"campaigns": ["helpful"], "policy": {"min_judgments": 0}}', "policy.min_judgments", id="min-zero"
        ),
        pytest.param(
            f'{{"campaigns": ["helpful"], "policy": {{"min_judgments": {HUGE_ID}}}}}',
            "policy.min_judgments",
            id="min-huge",
        ),
        pytest.param(
            '{"campaigns": ["helpful"], "policy": {"min_judgments": "many"}}', "policy.min_judgments", id="min-text"
        ),
        pytest.param(
            '{"campaigns": ["helpful"], "policy": {"min_agreement": true}}', "policy.min_agreement", id="agree-bool"
        ),
        pytest.param('{"campaigns": ["helpful"], "policy": {"weighting": 3}}', "policy.weighting", id="weighting-num"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"weight": ["a"]}}', "policy.weight", id="weight-list"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"colour": 1}}', "policy.colour", id="policy-unknown"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"source": {}}}', "policy.source", id="source-object"),
        pytest.param('{"campaigns": ["helpful"], "policy": {"source": ["ai"]}}', "policy.source", id="source-list"),
        pytest.param(
            '{"campaigns": ["helpful"], "policy": {"source": "robots"}}', "policy.source", id="source-unknown"
        ),
        pytest.param('{"campaigns": "helpful"}', "campaigns", id="campaigns-string"),
        pytest.param('{"campaigns": [1, 2]}', "campaigns.0", id="campaigns-numbers"),
        pytest.param('{"campaigns": []}', "campaigns", id="campaigns-empty"),
        pytest.param('{"campaigns": ["nope"]}', "campaigns", id="campaigns-unknown"),
        pytest.param('{"policy": {}}', "campaigns", id="campaigns-missing"),
        pytest.param("[]", "detail", id="array-body"),
        pytest.param("null", "detail", id="null-body"),
    ],
)
def test_bad_export_requests_are_400_naming_the_field(api_for, lena, helpful, body, field):
    assert_error_body(post_raw(api_for(lena), reverse("api_snapshots"), body), 400, field)
    assert not DatasetSnapshot.objects.exists()


@pytest.mark.parametrize("knob", ["seed", "min_judgments", "min_agreement", "test_share"])
@pytest.mark.parametrize("value", ["1e400", "-1e400", "NaN"])
def test_non_finite_export_knobs_are_refused(api_for, lena, helpful, knob, value):
    body = f'{{"campaigns": ["helpful"], "policy": {{"{knob}": {value}}}}}'
    assert_error_body(post_raw(api_for(lena), reverse("api_snapshots"), body), 400, "detail")


# ---- runs ----


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param('{"snapshot": 1, "base_model": 1, "preset": ["quick"]}', "preset", id="preset-list"),
        pytest.param('{"snapshot": 1, "base_model": 1, "preset": {"quick": 1}}', "preset", id="preset-object"),
        pytest.param('{"snapshot": 1, "base_model": 1, "preset": 7}', "preset", id="preset-number"),
        pytest.param('{"snapshot": 1, "base_model": 1, "preset": "x"}', "preset", id="preset-unknown"),
        pytest.param(f'{{"snapshot": {HUGE_ID}, "base_model": 1}}', "snapshot", id="snapshot-400-digits"),
        pytest.param(f'{{"snapshot": 1, "base_model": {HUGE_ID}}}', "base_model", id="model-400-digits"),
        pytest.param('{"snapshot": "1", "base_model": 1}', "snapshot", id="snapshot-string"),
        pytest.param('{"snapshot": true, "base_model": 1}', "snapshot", id="snapshot-boolean"),
        pytest.param('{"snapshot": 0, "base_model": 1}', "snapshot", id="snapshot-zero"),
        pytest.param('{"snapshot": 1, "base_model": 1, "overrides": [1]}', "overrides", id="overrides-list"),
        pytest.param('{"snapshot": 1, "base_model": 1, "overrides": "beta=1"}', "overrides", id="overrides-string"),
        pytest.param('{"base_model": 1}', "snapshot", id="snapshot-missing"),
        pytest.param('{"snapshot": 1, "base_model": 1, "name": 7}', "name", id="name-number"),
        pytest.param('{"snapshot": 1, "base_model": 1, "notes": ["a"]}', "notes", id="notes-list"),
        pytest.param(f'{{"snapshot": 1, "base_model": 1, "notes": "{"n" * 10_001}"}}', "notes", id="notes-too-long"),
        pytest.param("null", "detail", id="null-body"),
        pytest.param("[1]", "detail", id="array-body"),
    ],
)
def test_bad_run_launches_are_400_naming_the_field(api_for, lena, body, field):
    assert_error_body(post_raw(api_for(lena), reverse("api_runs"), body), 400, field)


@pytest.mark.parametrize("value", ["1e400", "NaN", "-Infinity"])
def test_non_finite_run_overrides_are_refused(api_for, lena, value):
    body = f'{{"snapshot": 1, "base_model": 1, "overrides": {{"beta": {value}}}}}'
    assert_error_body(post_raw(api_for(lena), reverse("api_runs"), body), 400, "detail")


# ---- imports ----


def import_url(**query) -> str:
    url = reverse("api_campaign_import", args=["fresh"])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def native_row(*, id: str = "p1", candidate_id: str = "c1", model: str = "m") -> bytes:
    candidates = [{"id": candidate_id, "text": "one", "model": model}, {"id": "c2", "text": "two"}]
    return json.dumps({"id": id, "locale": "en-US", "prompt": "q", "candidates": candidates}).encode()


def upload(content: bytes) -> dict:
    return {"file": SimpleUploadedFile("rows.jsonl", content)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b'{"id": "p1", "prompt": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply", id="deep"),
        pytest.param(b'{"id": "p1", "prompt": "q", "tags": {"x": 1e400}}', "finite", id="1e400"),
        pytest.param(b'{"id": "p1", "prompt": "q", "tags": {"x": NaN}}', "NaN", id="NaN"),
        pytest.param(b'{"id": "p1", "prompt": "a\\u0000b"}', "NUL", id="NUL-in-text"),
        pytest.param(b"\xff\xfe", "UTF-8", id="not-utf8"),
        pytest.param(b"[1, 2]", "row: must be a JSON object", id="array-line"),
        pytest.param(native_row(id="p" * 201), "id: longer than 200 characters", id="long-id"),
        pytest.param(native_row(candidate_id="c" * 201), "candidates[0].id: longer than 200", id="long-candidate-id"),
        pytest.param(native_row(model="m" * 201), "candidates[0].model: longer than 200", id="long-model"),
    ],
)
def test_bad_import_lines_are_400_under_lines(api_for, lena, content, message):
    body = assert_error_body(api_for(lena).post(import_url(), upload(content)), 400, "lines")
    assert body["lines"][0].startswith("line 1: ") and message in body["lines"][0]
    assert not Campaign.objects.filter(slug="fresh").exists()


@pytest.mark.parametrize(("query", "field"), [({"pairs": "every"}, "pairs"), ({"locale": "x" * 50}, "locale")])
def test_bad_import_options_are_400_naming_them(api_for, lena, query, field):
    assert_error_body(api_for(lena).post(import_url(**query), upload(b"{}")), 400, field)


def test_an_import_into_a_slug_too_long_for_a_campaign_is_400(api_for, lena):
    url = reverse("api_campaign_import", args=["c" * 101])
    body = assert_error_body(api_for(lena).post(url, upload(native_row())), 400, "lines")
    assert body["lines"] == ["line 0: campaign: longer than 100 characters"]
    assert not Campaign.objects.exists()


def test_an_import_without_a_file_is_400_on_file(api_for, lena):
    assert_error_body(api_for(lena).post(import_url(), {}), 400, "file")


def test_an_import_over_the_size_limit_is_413_before_it_is_read(api_for, lena, settings):
    settings.IMPORT_MAX_BYTES = 100
    body = assert_error_body(api_for(lena).post(import_url(), upload(b" " * 500)), 413, "file")
    assert "IMPORT_MAX_BYTES" in body["file"][0]
    assert not Campaign.objects.filter(slug="fresh").exists()


def test_the_import_page_refuses_a_file_over_the_size_limit(client_for, lena, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = client_for(lena).post(
        reverse("import_upload"), {"campaign": "fresh", "pairs": "all", **upload(b" " * 500)}
    )
    assert b"IMPORT_MAX_BYTES" in response.content
    assert not Campaign.objects.filter(slug="fresh").exists()
