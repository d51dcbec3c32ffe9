from __future__ import annotations

import numpy as np
from sklearn.metrics import cohen_kappa_score

from annotate.quality.judges import human_majority, judge_rows
from tests.annotate.quality.test_metrics import make as make_arrays

A, B, TIE, BOTH_BAD, ESCALATE = range(5)


def test_the_majority_is_a_unique_plurality_of_answers():
    humans = make_arrays(
        reviewer=[1, 2, 3, 1, 2, 1, 2, 3],
        comparison=[10, 10, 10, 11, 11, 12, 12, 12],
        outcome=[A, A, B, A, B, TIE, ESCALATE, ESCALATE],
    )
    comparisons, majority = human_majority(humans)
    assert comparisons.tolist() == [10, 11, 12]
    assert majority.tolist() == [A, -1, TIE]  # 11 is split; escalations are not answers


def test_each_judge_is_scored_on_pairs_with_a_majority_and_kappa_matches_scikit_learn():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, size=200)
    humans = make_arrays(
        reviewer=[1] * 200 + [2] * 200, comparison=list(range(200)) * 2, outcome=list(truth) + list(truth)
    )
    noisy = np.where(rng.random(200) < 0.3, rng.integers(0, 3, size=200), truth)
    judges = make_arrays(
        reviewer=[7] * 200 + [8] * 3,
        comparison=list(range(200)) + [500, 0, 1],  # 500: no human judged it
        outcome=list(noisy) + [A, ESCALATE, TIE],
    )
    first, second = judge_rows(humans, judges)
    assert first["pairs"] == 200 and first["accuracy"] == np.mean(noisy == truth)
    assert np.isclose(first["kappa"], cohen_kappa_score(noisy, truth))
    assert first["tie_share"] == np.mean(noisy == TIE)
    assert np.array(first["confusion"]).sum() == 200 and np.trace(first["confusion"]) == (noisy == truth).sum()
    assert (second["judge"], second["pairs"]) == (8, 1)  # the escalation and the unjudged pair are left out


def test_position_consistency_is_the_share_of_verdicts_that_held_when_the_order_was_swapped():
    humans = make_arrays(reviewer=[1, 2], comparison=[10, 10], outcome=[A, A])
    nan = np.nan
    judges = make_arrays(
        reviewer=[7] * 5 + [8] * 2,
        comparison=[10, 11, 12, 13, 14, 10, 11],  # 11-14 have no human majority: consistency still counts them
        outcome=[A, B, TIE, A, ESCALATE, A, B],
        order_consistent=[1, 1, 0, nan, 1, nan, nan],
    )
    seven, eight = judge_rows(humans, judges)
    assert (seven["position_consistency"], seven["order_checked"], seven["order_flips"]) == (0.75, 4, 1)
    assert np.isnan(eight["position_consistency"]) and (eight["order_checked"], eight["order_flips"]) == (0, 0)


def test_position_consistency_is_undefined_for_arrays_without_the_column():
    humans = make_arrays(reviewer=[1], comparison=[10], outcome=[A])
    (row,) = judge_rows(humans, make_arrays(reviewer=[7], comparison=[10], outcome=[A]))
    assert np.isnan(row["position_consistency"]) and row["order_checked"] == 0
