"""The shared API pieces on their own: the JSON reader, the error body, service messages turned into it."""

from __future__ import annotations

import json

import pytest

from config.api import error_body, field_errors
from config.json_input import MAX_DEPTH, JSONInputError, loads


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e400", "numbers must be finite"),
        ("[-1e400]", "numbers must be finite"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("Infinity", "Infinity is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested too deeply"),
        ('{"k": "a\\u0000b"}', "NUL"),
        ('{"a\\u0000": 1}', "NUL"),
        ("1" * 5000, "4300"),
    ],
)
def test_json_that_no_column_can_hold_is_refused_with_a_message(text, message):
    with pytest.raises(JSONInputError, match=message):
        loads(text)


def test_ordinary_json_reads_as_json_does_and_syntax_errors_keep_their_position():
    text = '{"a": [1, 2.5, -3e10, "x", null, true], "b": {"c": {}}}'
    assert loads(text) == json.loads(text)
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(json.JSONDecodeError) as error:
        loads('{"a": }')
    assert error.value.colno == 7


def test_nested_serializer_errors_flatten_to_dotted_fields_and_detail_is_one_string():
    nested = {
        "ratings": {"left": {"accuracy": ["pick 1 to 5"]}},
        "campaigns": {0: ["Not a valid string."]},
        "non_field_errors": ["first.", "second."],
    }
    assert error_body(nested) == {
        "ratings.left.accuracy": ["pick 1 to 5"],
        "campaigns.0": ["Not a valid string."],
        "detail": "first. second.",
    }
    assert error_body(["Invalid data."]) == {"detail": "Invalid data."}
    assert error_body({"detail": "Not found."}) == {"detail": "Not found."}


def test_service_messages_become_field_errors_and_the_rest_detail():
    messages = ["beta: must be > 0", "beta: must be finite", "run #4 is running; cancel it first", "no colon"]
    assert field_errors(messages) == {
        "beta": ["must be > 0", "must be finite"],
        "detail": ["run #4 is running; cancel it first", "no colon"],
    }
    assert field_errors({"ratings.left.x": "not a criterion"}) == {"ratings.left.x": ["not a criterion"]}


def test_an_api_call_from_a_browser_still_answers_json(client_for, lena):
    response = client_for(lena).get("/api/v1/snapshots", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
