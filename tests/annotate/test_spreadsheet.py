from __future__ import annotations

import pytest

from annotate.spreadsheet import spreadsheet_safe


@pytest.mark.parametrize(
    "text",
    ["=1+1", '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", "-", "@rhea"],
)
def test_text_a_spreadsheet_would_evaluate_is_prefixed(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["-0.12", "+3", "-1e-05", "0.5", "plain text", "a=b", "", 7, -0.12, None, True])
def test_numbers_and_harmless_values_are_left_alone(value):
    assert spreadsheet_safe(value) == value
