"""The README's API examples, run in the order they are written against `seed_demo`'s data: each `curl` line must
answer the status its comment documents (and the body, where the comment shows one as JSON)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from annotate.services.assignment import assign_next_pair
from annotate.services.demo import seed_demo
from annotate.services.judging import submit_judgment
from annotate.services.tokens import api_token_create
from annotate.services.users import user_create
from training.services.base_models import base_model_register

README = Path(__file__).resolve().parent.parent / "README.md"
DOCUMENTED = re.compile(r"\s#\s*(?:→\s*)?(?P<status>\d{3})\b(?P<rest>.*)$")


def readme_curl_commands() -> list[tuple[str, int, str]]:
    """(command, documented status, rest of the comment) for every `curl` of the API in the README's sh blocks."""
    commands, in_block, pending = [], False, ""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_block, pending = line == "```sh", ""
            continue
        if not in_block:
            continue
        pending += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line
        if line.rstrip().endswith("\\"):
            continue
        command, pending = pending.strip(), ""
        match = DOCUMENTED.search(command)
        if command.startswith("curl") and "/api/v1/" in command and match:
            commands.append((command[: match.start()], int(match["status"]), match["rest"].strip()))
    return commands


def request_of(command: str, values: dict[str, str]) -> tuple[str, str, dict[str, str], str | None]:
    """curl arguments → (method, path with query, headers, body)."""
    for name, value in values.items():
        command = command.replace(name, value)
    args, method, headers, body, url = shlex.split(command)[1:], None, {}, None, None
    while args:
        arg = args.pop(0)
        if arg == "-X":
            method = args.pop(0)
        elif arg == "-H":
            name, _, value = args.pop(0).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            body = args.pop(0)
        else:
            url = arg
    parts = urlsplit(url if "://" in url else f"http://{url}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return method or ("POST" if body is not None else "GET"), path, headers, body


@pytest.fixture
def demo(db, settings, tmp_path, tiny_model_dir) -> dict[str, str]:
    """seed_demo's campaign and people after alice and bob agreed on a dozen pairs, and the tiny model registered."""
    settings.DATA_DIR = tmp_path
    settings.VERDICT_MODEL_DIRS = [Path(tiny_model_dir).resolve()]
    campaign = seed_demo()
    locales = ["en-US", "ja-JP"]
    lena = user_create(username="lena", role="lead", locales=locales)
    reviewers = [user_create(username=name, role="reviewer", locales=locales) for name in ("alice", "bob")]
    for reviewer in reviewers:
        for _ in range(12):
            assignment = assign_next_pair(reviewer=reviewer, campaign=campaign)
            choice = "left" if assignment.a_on_left else "right"  # both always prefer candidate a
            submit_judgment(assignment=assignment, choice=choice, strength="clear", ratings={}, critique="")
    base_model = base_model_register(name="tiny-demo", path=tiny_model_dir)
    return {
        "$LEAD_TOKEN": api_token_create(user=lena),
        "$TOKEN": api_token_create(user=reviewers[0]),
        "<base_model>": str(base_model.id),
    }


def test_the_readme_documents_the_api_examples_this_test_runs():
    documented = [(request_of(c, {})[:2], status) for c, status, _ in readme_curl_commands()]
    assert (("POST", "/api/v1/campaigns/demo-helpfulness/next"), 200) in documented
    assert (("POST", "/api/v1/assignments/<assignment>/judgment"), 201) in documented
    assert (("POST", "/api/v1/runs"), 201) in documented
    assert sum(status >= 400 for _, status in documented) >= 2  # the error body is shown, not only successes


def test_every_readme_api_example_answers_what_the_readme_says(client, demo):
    values = dict(demo)
    for command, status, rest in readme_curl_commands():
        method, path, headers, body = request_of(command, values)
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        content_type = extra.pop("HTTP_CONTENT_TYPE", "application/octet-stream")
        response = client.generic(method, path, data=body or "", content_type=content_type, **extra)
        assert response.status_code == status, (command, response.content[:500])
        shown = rest.split("  ")[0]
        if shown.startswith("{"):
            try:
                expected = json.loads(shown)
            except json.JSONDecodeError:  # an outline such as {"id": ...}
                expected = None
            if expected is not None:
                assert response.json() == expected, command
        if response.get("Content-Type", "").startswith("application/json") and status < 300:
            answer = response.json()
            if path.endswith("/next"):
                values["<assignment>"] = str(answer["assignment"])
            elif path == "/api/v1/snapshots" and method == "POST":
                values["<snapshot>"] = str(answer["id"])
