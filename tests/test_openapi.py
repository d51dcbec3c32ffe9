"""The API contract: the OpenAPI schema is valid and served, and the live API keeps it under fuzzing.

schemathesis generates requests for every operation from the schema (valid and invalid ones, a bounded and seeded
number per operation) and sends them through the WSGI app as a lead and as a reviewer, on demo data. Any 5xx, any
undocumented status, any response body that breaks its documented shape fails the test.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from annotate.export_policy import ExportPolicy
from annotate.models import Campaign
from annotate.services.assignment import assign_next_pair
from annotate.services.demo import DEMO_CAMPAIGN, seed_demo
from annotate.services.exporting import snapshot_create
from annotate.services.judging import submit_judgment
from annotate.services.tokens import api_token_create
from annotate.services.users import user_create
from annotate.sources import SOURCE_FILTERS
from annotate.token_selectors import prefix_of
from config.wsgi import application
from tests.annotate.review_helpers import campaign_with_pairs
from tests.factories import TrainingRunFactory

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 10


def openapi() -> dict:
    """The schema exactly as /api/v1/schema/ serves it (rendered to JSON and read back)."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def _loaded(*, coverage: bool) -> schemathesis.schemas.BaseSchema:
    schema = schemathesis.openapi.from_dict(openapi())
    schema.app = application  # requests go through the WSGI app in this process (the test database)
    schema.config.phases.coverage.enabled = coverage
    return schema


# As a lead (who may also review), every operation gets the coverage phase too: boundary values and each kind of
# wrong type per field, ~300 requests. As a reviewer, fuzzing alone: the role gates and the reviewer's own calls.
LEAD_SCHEMA = _loaded(coverage=True)
REVIEWER_SCHEMA = _loaded(coverage=False)


@dataclass
class Demo:
    tokens: dict[str, str]
    lead: object
    campaign: Campaign
    snapshot_id: int
    run_id: int
    assignment_id: int

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[role]}"}


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django closes the connection when a request ends; its test client stops that (the test's transaction lives
    on it), and so must this test, whose requests go through the plain WSGI app."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def demo(db, settings, tmp_path, wsgi_keeps_the_test_connection) -> Demo:
    """`seed_demo`'s campaign and people, a few judgments, a snapshot and a finished run: real bodies to check."""
    settings.DATA_DIR = tmp_path
    campaign = seed_demo()
    locales = ["en-US", "ja-JP"]
    lena = user_create(username="lena", role="lead", locales=locales)
    alice = user_create(username="alice", role="reviewer", locales=locales)
    bob = user_create(username="bob", role="reviewer", locales=locales)
    for reviewer in (alice, bob):
        for _ in range(3):
            assignment = assign_next_pair(reviewer=reviewer, campaign=campaign)
            submit_judgment(assignment=assignment, choice="tie", strength=None, ratings={}, critique="")
    open_assignment = assign_next_pair(reviewer=alice, campaign=campaign)
    snapshot = snapshot_create(
        campaigns=[campaign], policy=ExportPolicy(min_judgments=1, test_share=0.0), created_by=lena
    )
    run = TrainingRunFactory(snapshot=snapshot, status="succeeded", step=30, eval_report={"accuracy": 0.5})
    return Demo(
        tokens={"lead": api_token_create(user=lena), "reviewer": api_token_create(user=alice)},
        lead=lena,
        campaign=campaign,
        snapshot_id=snapshot.id,
        run_id=run.id,
        assignment_id=open_assignment.id,
    )


def test_the_schema_is_valid_and_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/assignments/{assignment_id}/judgment" in (tmp_path / "schema.yaml").read_text()


def test_every_api_route_is_in_the_schema():
    from django.urls import get_resolver

    from tests.test_permissions import _walk

    api_routes = {
        str(pattern.pattern)
        for pattern, _ in _walk(get_resolver().url_patterns)
        if getattr(pattern.callback, "cls", None) is not None and pattern.name not in ("api_schema", "api_docs")
    }
    documented = {path.removeprefix("/api/v1/") for path in openapi()["paths"]}
    assert len(api_routes) == len(documented) >= 15


def test_signed_in_people_read_the_schema_and_its_docs_page_without_a_cdn(client, client_for, alice):
    assert client.get("/api/v1/schema/").status_code in (401, 403)
    signed_in = client_for(alice)
    schema = signed_in.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and "/api/v1/runs" in schema.json()["paths"]
    docs = signed_in.get("/api/v1/docs/")
    html = docs.content.decode()
    assert docs.status_code == 200 and "swagger-ui" in html and "/api/v1/schema/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_every_error_response_is_documented_with_the_error_body():
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_the_export_policy_schema_documents_every_setting_the_policy_accepts():
    policy = openapi()["components"]["schemas"]["ExportRequestRequest"]["properties"]["policy"]

    assert set(policy["properties"]) == {setting.name for setting in dataclasses.fields(ExportPolicy)}
    assert policy["properties"]["source"]["enum"] == list(SOURCE_FILTERS)
    assert policy["properties"]["source"]["default"] == ExportPolicy.source


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def auth(db, wsgi_keeps_the_test_connection) -> dict[str, dict[str, str]]:
    """Token headers of a lead and a reviewer, both qualified for a small active campaign (cheap: set up per
    operation; `demo` below checks the bodies of real objects once)."""
    campaign_with_pairs(3, locale="en-US", slug=DEMO_CAMPAIGN)
    people = {role: user_create(username=role, role=role, locales=["en-US"]) for role in ("lead", "reviewer")}
    return {role: {"Authorization": f"Token {api_token_create(user=user)}"} for role, user in people.items()}


@LEAD_SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_the_api_keeps_its_contract_for_a_lead(case, auth):
    case.call_and_validate(headers=auth["lead"], checks=CHECKS)


@REVIEWER_SCHEMA.parametrize()
@FUZZ_SETTINGS
def test_the_api_keeps_its_contract_for_a_reviewer(case, auth):
    case.call_and_validate(headers=auth["reviewer"], checks=CHECKS)


def _real_cases(demo: Demo, spare_token_prefix: str):
    """One request per operation on objects that exist, so success bodies are checked too, not only errors."""
    ids = {
        "assignment_id": demo.assignment_id,
        "slug": DEMO_CAMPAIGN,
        "snapshot_id": demo.snapshot_id,
        "run_id": demo.run_id,
        "job_id": 1,
        "evaluation_id": 1,
        "name": "manifest.json",
        "prefix": spare_token_prefix,
    }
    bodies = {
        ("POST", "/api/v1/assignments/{assignment_id}/judgment"): {"choice": "tie", "critique": "close call"},
        ("POST", "/api/v1/snapshots"): {"campaigns": [DEMO_CAMPAIGN], "policy": {"min_judgments": 1}},
        ("POST", "/api/v1/runs"): {"snapshot": demo.snapshot_id, "base_model": 1, "preset": "quick"},
    }
    queries = {("GET", "/api/v1/leaderboard"): {"campaigns": DEMO_CAMPAIGN, "baseline": "atlas"}}
    for operation in LEAD_SCHEMA.get_all_operations():
        operation = operation.ok()
        path_parameters = {p.name: ids[p.name] for p in operation.path_parameters}
        key = (operation.method.upper(), operation.path)
        kwargs = {"body": bodies[key], "media_type": "application/json"} if key in bodies else {}
        if key in queries:
            kwargs["query"] = queries[key]
        if operation.path.endswith("/imports"):
            continue  # multipart: covered by the fuzzing and tests/annotate/test_importing.py
        yield operation.Case(path_parameters=path_parameters, **kwargs)


def test_real_objects_come_back_in_their_documented_shapes(demo):
    spare = api_token_create(user=demo.lead)
    statuses = {}
    for case in _real_cases(demo, prefix_of(spare)):
        role = "reviewer" if "/assignments/" in case.path or "/next" in case.path else "lead"
        response = case.call_and_validate(headers=demo.auth(role), checks=CHECKS)
        statuses[(case.method, case.path)] = response.status_code
    assert statuses[("POST", "/api/v1/campaigns/{slug}/next")] == 200
    assert statuses[("POST", "/api/v1/assignments/{assignment_id}/judgment")] == 201
    assert statuses[("GET", "/api/v1/snapshots/{snapshot_id}")] == 200
    assert statuses[("GET", "/api/v1/runs/{run_id}")] == 200
    assert statuses[("POST", "/api/v1/snapshots")] == 201
    assert statuses[("DELETE", "/api/v1/tokens/{prefix}")] == 204
    assert statuses[("GET", "/api/v1/leaderboard")] == 200
