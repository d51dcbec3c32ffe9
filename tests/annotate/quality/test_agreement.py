"""annotate.quality.agreement against its peers: krippendorff, statsmodels and scikit-learn, on random data."""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from annotate.quality import agreement
from annotate.quality.agreement import (
    bootstrap_alpha_ci,
    bootstrap_alpha_long_ci,
    bootstrap_counts_ci,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    krippendorff_alpha_long,
    percent_agreement,
)

LEVELS = ["nominal", "ordinal", "interval"]
FAST = settings(max_examples=60, deadline=None)


def peer_alpha(data: np.ndarray, level: str) -> float:
    """krippendorff.alpha, with its errors and 0/0 warnings for degenerate data read as nan."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
        except ValueError:
            return float("nan")


def same(ours: float, theirs: float) -> bool:
    if np.isnan(theirs):
        return bool(np.isnan(ours))
    return abs(ours - theirs) <= 1e-9


@st.composite
def reliability_data(draw: st.DrawFn) -> np.ndarray:
    n_raters = draw(st.integers(2, 6))
    n_units = draw(st.integers(1, 40))
    n_values = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    missing = draw(st.floats(0.0, 0.7))
    scale = draw(st.sampled_from([1.0, 0.25, -3.5]))
    rng = np.random.default_rng(seed)
    data = rng.integers(0, n_values, size=(n_raters, n_units)) * scale
    data[rng.random(data.shape) < missing] = np.nan
    return data


@st.composite
def count_tables(draw: st.DrawFn, equal_raters: bool) -> np.ndarray:
    n_units = draw(st.integers(1, 40))
    n_categories = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if equal_raters:
        raters = np.full(n_units, draw(st.integers(2, 6)))
    else:
        raters = rng.integers(0, 6, size=n_units)
    return np.stack([rng.multinomial(r, np.full(n_categories, 1 / n_categories)) for r in raters])


@FAST
@given(data=reliability_data(), level=st.sampled_from(LEVELS))
def test_alpha_matches_krippendorff_package(data: np.ndarray, level: str) -> None:
    assert same(krippendorff_alpha(data, level), peer_alpha(data, level))


def long_form(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (unit id, value) rows with gaps in the unit ids, as a database would hand them over."""
    raters, units = np.nonzero(~np.isnan(data))
    order = np.random.default_rng(0).permutation(len(units))
    return units[order] * 7 + 3, data[raters, units][order]


@FAST
@given(data=reliability_data(), level=st.sampled_from(LEVELS))
def test_long_form_alpha_equals_matrix_alpha(data: np.ndarray, level: str) -> None:
    units, values = long_form(data)
    assert same(krippendorff_alpha_long(units, values, level), peer_alpha(data, level))
    assert bootstrap_alpha_long_ci(units, values, level, n_resamples=30, seed=4) == pytest.approx(
        bootstrap_alpha_ci(data, level, n_resamples=30, seed=4), nan_ok=True, abs=1e-12
    )


@FAST
@given(table=count_tables(equal_raters=True))
def test_fleiss_kappa_matches_statsmodels(table: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = float(statsmodels_fleiss_kappa(table))
    assert same(fleiss_kappa(table), theirs)


@FAST
@given(
    labels=st.integers(1, 5).flatmap(
        lambda k: st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=60)
    )
)
def test_cohen_kappa_matches_sklearn(labels: list[tuple[int, int]]) -> None:
    a, b = (np.array(side) for side in zip(*labels, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = float(cohen_kappa_score(a, b))
    assert same(cohen_kappa(a, b), theirs)


def test_cohen_kappa_accepts_string_labels() -> None:
    a = ["a", "b", "tie", "a", "b", "a"]
    b = ["a", "b", "a", "a", "tie", "b"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


@FAST
@given(table=count_tables(equal_raters=False))
def test_percent_agreement_is_mean_share_of_agreeing_pairs(table: np.ndarray) -> None:
    shares = [sum(c * (c - 1) for c in row) / (sum(row) * (sum(row) - 1)) for row in table.tolist() if sum(row) >= 2]
    expected = float(np.mean(shares)) if shares else float("nan")
    assert same(percent_agreement(table), expected)


@FAST
@given(data=reliability_data(), level=st.sampled_from(LEVELS), seed=st.integers(0, 1000))
def test_resampled_statistic_equals_alpha_of_the_resampled_units(data: np.ndarray, level: str, seed: int) -> None:
    # The bootstrap evaluates alpha from pattern multiplicities; check that against the peer on real copies.
    patterns = agreement._patterns(data)
    if patterns is None:
        return
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(int(patterns.multiplicity.sum()), np.full(len(patterns.codes), 1 / len(patterns.codes)))
    values = np.append(patterns.domain, np.nan)[patterns.codes]
    resampled = np.repeat(values, weights, axis=0).T
    ours = agreement._alpha_statistic(patterns, level)(weights[None, :].astype(float))[0]
    assert same(float(ours), peer_alpha(resampled, level))


def naive_bootstrap(data: np.ndarray, level: str, n_resamples: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    n_units = pairable.shape[1]
    estimates = [peer_alpha(pairable[:, rng.integers(0, n_units, n_units)], level) for _ in range(n_resamples)]
    low, high = np.nanquantile(estimates, [0.025, 0.975])
    return float(low), float(high)


@pytest.mark.parametrize("level", LEVELS)
def test_bootstrap_interval_agrees_with_a_naive_unit_bootstrap(level: str) -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 5, 300)
    data = np.where(rng.random((4, 300)) < 0.6, truth, rng.integers(0, 5, (4, 300))).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    low, high = bootstrap_alpha_ci(data, level, n_resamples=400, seed=1)
    naive_low, naive_high = naive_bootstrap(data, level, n_resamples=400, seed=2)
    estimate = krippendorff_alpha(data, level)
    assert low < estimate < high
    assert low == pytest.approx(naive_low, abs=0.02)
    assert high == pytest.approx(naive_high, abs=0.02)


def test_bootstrap_is_reproducible_for_a_seed_and_narrows_with_confidence() -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 3, size=(3, 200)).astype(float)
    assert bootstrap_alpha_ci(data, "nominal", seed=5) == bootstrap_alpha_ci(data, "nominal", seed=5)
    wide = bootstrap_alpha_ci(data, "nominal", confidence=0.99)
    narrow = bootstrap_alpha_ci(data, "nominal", confidence=0.5)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_bootstrap_handles_many_distinct_units() -> None:
    # Continuous values: every unit is its own pattern, so resampling takes the index path.
    rng = np.random.default_rng(4)
    base = rng.normal(size=500)
    data = base + rng.normal(scale=0.5, size=(3, 500))
    low, high = bootstrap_alpha_ci(data, "interval", n_resamples=200)
    assert low < krippendorff_alpha(data, "interval") < high
    low, high = bootstrap_alpha_ci(data, "ordinal", n_resamples=50)
    assert low < krippendorff_alpha(data, "ordinal") < high


@pytest.mark.parametrize("statistic", ["fleiss_kappa", "percent_agreement"])
def test_count_bootstrap_brackets_the_estimate(statistic: str) -> None:
    rng = np.random.default_rng(5)
    table = np.stack([rng.multinomial(3, [0.6, 0.2, 0.1, 0.1]) for _ in range(400)])
    estimate = {"fleiss_kappa": fleiss_kappa, "percent_agreement": percent_agreement}[statistic](table)
    low, high = bootstrap_counts_ci(table, statistic, n_resamples=300)
    assert low < estimate < high


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_is_nan_when_only_one_value_is_used(level: str) -> None:
    data = np.array([[1.0, 1.0, np.nan], [1.0, 1.0, 1.0]])
    assert np.isnan(krippendorff_alpha(data, level))
    assert all(np.isnan(bootstrap_alpha_ci(data, level, n_resamples=20)))


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_is_nan_without_pairable_units(level: str) -> None:
    data = np.array([[1.0, np.nan, 2.0], [np.nan, 3.0, np.nan]])
    assert np.isnan(krippendorff_alpha(data, level))
    assert np.isnan(krippendorff_alpha(np.empty((2, 0)), level))
    assert all(np.isnan(bootstrap_alpha_ci(data, level, n_resamples=20)))


def test_alpha_ignores_values_in_units_rated_once() -> None:
    data = np.array([[0.0, 1.0, 0.0, 5.0], [0.0, 1.0, 1.0, np.nan]])
    assert krippendorff_alpha(data, "nominal") == pytest.approx(krippendorff_alpha(data[:, :3], "nominal"))


def test_alpha_rejects_unknown_level() -> None:
    with pytest.raises(ValueError, match="level_of_measurement"):
        krippendorff_alpha(np.zeros((2, 2)), "ratio")


def test_kappas_are_nan_with_one_category() -> None:
    assert np.isnan(fleiss_kappa(np.array([[3], [3]])))
    assert np.isnan(fleiss_kappa(np.zeros((0, 3))))
    assert np.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    assert np.isnan(cohen_kappa([], []))
    assert np.isnan(percent_agreement(np.array([[1, 0], [0, 1]])))


def test_fleiss_kappa_rejects_unequal_raters() -> None:
    with pytest.raises(ValueError, match="same number of ratings"):
        fleiss_kappa(np.array([[2, 1], [1, 1]]))


def test_perfect_agreement_gives_one() -> None:
    data = np.array([[0.0, 1.0, 2.0, np.nan], [0.0, 1.0, 2.0, 2.0], [0.0, np.nan, 2.0, 2.0]])
    for level in LEVELS:
        assert krippendorff_alpha(data, level) == pytest.approx(1.0)
    assert fleiss_kappa(np.array([[3, 0], [0, 3], [3, 0]])) == pytest.approx(1.0)
    assert percent_agreement(np.array([[3, 0], [0, 2]])) == 1.0
