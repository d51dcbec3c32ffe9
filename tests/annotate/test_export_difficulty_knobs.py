"""The pure parts of the difficulty knobs: the cap's arithmetic against a brute force, bins, normalising text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotate.export_difficulty import KNOBS, Histogram, cap_drop_count, near_duplicates
from annotate.export_policy import ExportPolicy, PolicyError
from annotate.text import folded


def _brute_force(longer: int, preferences: int, cap: float) -> int:
    for k in range(longer + 1):
        if preferences - k == 0 or (longer - k) <= cap * (preferences - k) + 1e-12:
            return k
    return longer


@given(
    st.integers(min_value=0, max_value=300).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.sampled_from([0.0, 0.1, 1 / 3, 0.5, 0.55, 0.6, 2 / 3, 0.9, 0.999, 1.0]),
)
def test_the_cap_drops_the_fewest_pairs_that_meet_it(counts, cap):
    longer, preferences = counts
    assert cap_drop_count(longer=longer, preferences=preferences, cap=cap) == _brute_force(longer, preferences, cap)


def test_histogram_bins_are_closed_below_and_open_above():
    histogram = Histogram((0.0, 1.0))
    for value in (-0.5, 0.0, 0.99, 1.0, 7.0):
        histogram.add(value)
    assert histogram.as_dict() == {"labels": ["< 0", "0 … 1", "≥ 1"], "counts": [1, 2, 2]}
    lengths = Histogram((-10, 11), integer=True)
    for value in (-11, -10, 0, 10, 11):
        lengths.add(value)
    assert lengths.as_dict() == {"labels": ["≤ -11", "-10 … 10", "≥ 11"], "counts": [1, 3, 1]}


def test_near_duplicates_ignore_whitespace_and_case_only():
    assert folded("  Hello\t\nWORLD  ") == "hello world"
    assert near_duplicates("Straße ist", "STRASSE  ist")  # case folding, not just lower()
    assert not near_duplicates("Hello world.", "Hello world")


def test_every_knob_default_comes_from_the_table():
    policy = ExportPolicy()
    assert {name: getattr(policy, name) for name in KNOBS} == {name: knob.default for name, knob in KNOBS.items()}
    assert ExportPolicy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"longer_answer_cap": "lots"}, "longer_answer_cap: expected a number, got 'lots'"),
        ({"longer_answer_cap": "1e400"}, "longer_answer_cap: expected a number from 0 to 1"),
        ({"reference_model_digest": "ab", "max_margin_nats": 10001}, "max_margin_nats: expected a number from 0"),
        ({"reference_model_digest": "a" * 65}, "reference_model_digest: expected a model's hex SHA-256"),
    ],
)
def test_bad_knob_values_name_the_knob(data, message):
    with pytest.raises(PolicyError, match=message):
        ExportPolicy.from_dict(data)


def test_text_values_from_forms_and_flags_are_read():
    policy = ExportPolicy.from_dict(
        {
            "reference_model_digest": " AB ",
            "max_margin_nats": "0.5",
            "longer_answer_cap": "",
            "drop_near_duplicates": "on",
        }
    )
    assert (policy.reference_model_digest, policy.max_margin_nats, policy.longer_answer_cap) == ("ab", 0.5, None)
    assert policy.drop_near_duplicates is True
