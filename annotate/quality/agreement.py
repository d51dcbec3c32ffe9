"""Inter-rater agreement: Krippendorff's alpha, Fleiss' and Cohen's kappa, percent agreement, bootstrap intervals.

Pure numpy (no Django). Conventions follow the peers the tests compare against:
``krippendorff.alpha`` (raters × units, ``np.nan`` for missing), statsmodels' ``fleiss_kappa`` (units × categories
counts) and sklearn's ``cohen_kappa_score``. Degenerate inputs (one category only, no pairable unit) give ``nan``.

Every statistic here is written as a function of *weights over unit patterns*: units that received the same
multiset of values are interchangeable, so a data set is K distinct patterns with multiplicities. The point
estimate evaluates the statistic at the observed multiplicities; a bootstrap resample of units is a multinomial
draw of multiplicities, so 1,000 resamples cost 1,000 × K work (K is a few hundred for judgments on a short scale)
instead of 1,000 × N.

Krippendorff's alpha with observed and expected disagreement (Krippendorff 2011, "Computing Krippendorff's
alpha-reliability"), over pairable values only (units with at least two values):

    alpha = 1 - (n - 1) * Σ_u D_u / Σ_{i≠j} δ(v_i, v_j),   D_u = Σ_{i≠j in u} δ(v_i, v_j) / (m_u - 1)

where n is the number of pairable values and m_u the number of values in unit u. For squared-difference metrics
Σ_{i≠j} (x_i - x_j)² = 2 m Σ (x_i - x̄)². The ordinal metric is the interval metric applied to mid-ranks
r_c = Σ_{g<c} n_g + n_c / 2 of the pairable value counts n_g, since (Σ_{g=c..k} n_g - (n_c + n_k) / 2)² = (r_k - r_c)².
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse

Level = Literal["nominal", "ordinal", "interval"]
CountStatistic = Literal["fleiss_kappa", "percent_agreement"]

# Upper bound on the elements of one (resamples × patterns × raters) block, to keep memory flat.
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class _Patterns:
    """Distinct pairable units: ``codes`` (K, M) value codes sorted per row, padded with ``n_values``."""

    codes: np.ndarray
    multiplicity: np.ndarray
    domain: np.ndarray

    @property
    def n_values(self) -> int:
        return len(self.domain)

    @property
    def sizes(self) -> np.ndarray:
        return (self.codes < self.n_values).sum(axis=1)

    def value_counts(self) -> sparse.csr_matrix:
        """(K, V) number of times each value occurs in each pattern."""
        rows, cols = np.nonzero(self.codes < self.n_values)
        data = np.ones(len(rows))
        shape = (len(self.codes), self.n_values)
        return sparse.csr_matrix((data, (rows, self.codes[rows, cols])), shape=shape)


def _distinct_rows(matrix: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a non-negative int matrix (entries < base) with their counts."""
    n_cols = matrix.shape[1]
    if n_cols * np.log2(max(base, 2)) < 62:
        # Fast path: one int64 key per row, a 1-D unique instead of a row-wise one.
        powers = base ** np.arange(n_cols, dtype=np.int64)
        keys = matrix.astype(np.int64) @ powers
        if len(keys) and keys.max() < 4 * len(keys) + 1_000_000:
            # Keys small enough to count: a bincount, and each distinct key decoded back into its row.
            counts = np.bincount(keys)
            distinct = np.flatnonzero(counts)
            return (distinct[:, None] // powers) % base, counts[distinct]
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        return matrix[first], counts
    return np.unique(matrix, axis=0, return_counts=True)


def dense_index(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each id into the sorted distinct ids, the distinct ids); counts instead of sorting small ints."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iu" and len(ids) and ids.min() >= 0 and ids.max() < 4 * len(ids) + 1024:
        present = np.bincount(ids) > 0
        return (np.cumsum(present) - 1)[ids], np.flatnonzero(present).astype(ids.dtype)
    distinct, index = np.unique(ids, return_inverse=True)
    return index.ravel(), distinct


def _value_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted domain, code per value); a counting pass when values are whole numbers in a short range."""
    if len(values) and values.max() - values.min() < 4096 and np.all(values == np.round(values)):
        offsets = (values - values.min()).astype(np.int64)
        used = np.bincount(offsets) > 0
        return np.flatnonzero(used) + values.min(), (np.cumsum(used) - 1)[offsets]
    domain, codes = np.unique(values, return_inverse=True)
    return domain, codes.ravel()


def _count_rows_to_codes(counts: np.ndarray) -> np.ndarray:
    """(K, V) value counts to (K, M) sorted value codes padded with V."""
    n_rows, n_values = counts.shape
    sizes = counts.sum(axis=1)
    row = np.repeat(np.arange(n_rows), sizes)
    code = np.repeat(np.tile(np.arange(n_values), n_rows), counts.ravel())
    column = np.arange(len(code)) - np.r_[0, np.cumsum(sizes)[:-1]][row]
    matrix = np.full((n_rows, int(sizes.max())), n_values, dtype=np.int64)
    matrix[row, column] = code
    return matrix


def _patterns_from_long(units: np.ndarray, values: np.ndarray) -> _Patterns | None:
    """Patterns from long-form data: one (unit id, value) row per judgment, ``np.nan`` values ignored."""
    units = np.asarray(units)
    values = np.asarray(values, dtype=float)
    if units.shape != values.shape or units.ndim != 1:
        raise ValueError("units and values must be 1-D arrays of the same length")
    present = ~np.isnan(values)
    unit_index, unit_ids = dense_index(units[present])
    n_units = len(unit_ids)
    sizes = np.bincount(unit_index, minlength=n_units)
    pairable = sizes[unit_index] >= 2
    if not pairable.any():
        return None
    unit_index = unit_index[pairable]
    domain, codes = _value_codes(values[present][pairable])
    n_values = len(domain)
    if n_units * n_values <= 20_000_000:
        # Few values (outcomes, scales): a unit is its count vector, found by counting instead of sorting.
        cells = np.bincount(unit_index * n_values + codes, minlength=n_units * n_values)
        cells = cells.reshape(n_units, n_values)[sizes >= 2]
        distinct, multiplicity = _distinct_rows(cells, int(sizes.max()) + 1)
        return _Patterns(codes=_count_rows_to_codes(distinct), multiplicity=multiplicity, domain=domain)
    order = np.lexsort((codes, unit_index))
    unit_index, codes = unit_index[order], codes[order]
    # Rows are the pairable units in id order; a value's column is its rank inside its (sorted) unit.
    starts = np.flatnonzero(np.r_[True, unit_index[1:] != unit_index[:-1]])
    row = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(codes)]))
    column = np.arange(len(codes)) - starts[row]
    matrix = np.full((len(starts), int(column.max()) + 1), n_values, dtype=np.int64)
    matrix[row, column] = codes
    distinct, multiplicity = _distinct_rows(matrix, n_values + 1)
    return _Patterns(codes=distinct, multiplicity=multiplicity, domain=domain)


def _patterns(reliability_data: np.ndarray) -> _Patterns | None:
    data = np.asarray(reliability_data, dtype=float)
    if data.ndim != 2:
        raise ValueError("reliability_data must be a 2-D raters × units array")
    present = ~np.isnan(data)
    _, units = np.nonzero(present)
    return _patterns_from_long(units, data[present])


def _resampled_weights(
    multiplicity: np.ndarray, n_resamples: int, rng: np.random.Generator, block: int
) -> Iterator[np.ndarray]:
    """Blocks of (b, K) pattern counts, each row a bootstrap resample of all units with replacement."""
    n_units = int(multiplicity.sum())
    n_patterns = len(multiplicity)
    probabilities = multiplicity / n_units
    owner = np.repeat(np.arange(n_patterns), multiplicity)
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        if n_patterns * 8 < n_units:
            yield rng.multinomial(n_units, probabilities, size=size).astype(float)
        else:
            picks = owner[rng.integers(0, n_units, size=(size, n_units))]
            offsets = (np.arange(size) * n_patterns)[:, None]
            counts = np.bincount((picks + offsets).ravel(), minlength=size * n_patterns)
            yield counts.reshape(size, n_patterns).astype(float)


def _alpha_from_disagreements(n: np.ndarray, observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where(expected > 0, alpha, np.nan)


def _nominal_alpha(patterns: _Patterns) -> Callable[[np.ndarray], np.ndarray]:
    counts = patterns.value_counts()
    sizes = patterns.sizes.astype(float)
    squares = np.asarray(counts.multiply(counts).sum(axis=1)).ravel()
    unit_disagreement = (sizes**2 - squares) / (sizes - 1.0)

    def statistic(weights: np.ndarray) -> np.ndarray:
        marginals = (counts.T @ weights.T).T
        n = marginals.sum(axis=1)
        expected = n**2 - (marginals**2).sum(axis=1)
        return _alpha_from_disagreements(n, weights @ unit_disagreement, expected)

    return statistic


def _squared_difference_alpha(
    patterns: _Patterns, scores: Callable[[np.ndarray], np.ndarray], fixed: bool
) -> Callable[[np.ndarray], np.ndarray]:
    """Alpha for δ = (x_c - x_k)², with x given per resample by ``scores(marginal counts)`` of shape (b, V)."""
    counts = patterns.value_counts()
    present = patterns.codes < patterns.n_values
    sizes = patterns.sizes.astype(float)

    def unit_disagreement(x: np.ndarray) -> np.ndarray:
        padded = np.concatenate([x, np.zeros((len(x), 1))], axis=1)
        values = padded[:, patterns.codes]
        means = values.sum(axis=2) / sizes
        within = (((values - means[..., None]) ** 2) * present).sum(axis=2)
        return 2.0 * sizes * within / (sizes - 1.0)

    def statistic(weights: np.ndarray) -> np.ndarray:
        marginals = (counts.T @ weights.T).T
        n = marginals.sum(axis=1)
        x = scores(marginals)
        mean = (marginals * x).sum(axis=1, keepdims=True) / n[:, None]
        expected = 2.0 * n * (marginals * (x - mean) ** 2).sum(axis=1)
        if fixed:
            observed = weights @ unit_disagreement(x[:1])[0]
        else:
            observed = (weights * unit_disagreement(x)).sum(axis=1)
        return _alpha_from_disagreements(n, observed, expected)

    return statistic


def _midranks(marginals: np.ndarray) -> np.ndarray:
    return np.cumsum(marginals, axis=1) - marginals / 2.0


_LEVELS = ("nominal", "ordinal", "interval")


def _check_level(level: str) -> None:
    if level not in _LEVELS:
        raise ValueError(f"level_of_measurement must be one of {', '.join(_LEVELS)}, not {level!r}")


def _ordinal_alpha_coincidences(patterns: _Patterns) -> Callable[[np.ndarray], np.ndarray]:
    """Ordinal alpha from per-pattern coincidence matrices o_k (V × V): cheap when the scale is short.

    A resample's coincidences are Σ_k w_k o_k and its marginals Σ_k w_k n_k; the mid-rank distances follow.
    """
    counts = patterns.value_counts().toarray()
    n_patterns, n_values = counts.shape
    sizes = counts.sum(axis=1)
    pairs = counts[:, :, None] * counts[:, None, :] - counts[:, :, None] * np.eye(n_values)
    coincidences = (pairs / (sizes - 1.0)[:, None, None]).reshape(n_patterns, n_values**2)

    def statistic(weights: np.ndarray) -> np.ndarray:
        observed_pairs = (weights @ coincidences).reshape(len(weights), n_values, n_values)
        marginals = weights @ counts
        ranks = _midranks(marginals)
        distance = (ranks[:, :, None] - ranks[:, None, :]) ** 2
        observed = (observed_pairs * distance).sum(axis=(1, 2))
        expected = (marginals[:, :, None] * marginals[:, None, :] * distance).sum(axis=(1, 2))
        return _alpha_from_disagreements(marginals.sum(axis=1), observed, expected)

    return statistic


_SHORT_SCALE = 32  # up to this many distinct values, ordinal alpha goes through V × V coincidence matrices


def _alpha_statistic(patterns: _Patterns, level: str) -> Callable[[np.ndarray], np.ndarray]:
    _check_level(level)
    if level == "nominal":
        return _nominal_alpha(patterns)
    if level == "interval":
        domain = patterns.domain - patterns.domain.mean()
        return _squared_difference_alpha(patterns, lambda m: np.broadcast_to(domain, m.shape), fixed=True)
    if patterns.n_values <= _SHORT_SCALE:
        return _ordinal_alpha_coincidences(patterns)
    return _squared_difference_alpha(patterns, _midranks, fixed=False)


def _block_size(patterns: np.ndarray) -> int:
    return max(1, _BLOCK_ELEMENTS // max(1, patterns.size))


def krippendorff_alpha(reliability_data: np.ndarray, level_of_measurement: Level = "nominal") -> float:
    """Krippendorff's alpha of a (raters, units) array with ``np.nan`` for missing values.

    Units with fewer than two values are ignored; returns nan when no unit is pairable or all pairable values
    are equal (no expected disagreement).
    """
    _check_level(level_of_measurement)
    patterns = _patterns(reliability_data)
    if patterns is None:
        return float("nan")
    statistic = _alpha_statistic(patterns, level_of_measurement)
    return float(statistic(patterns.multiplicity[None, :].astype(float))[0])


def krippendorff_alpha_long(units: np.ndarray, values: np.ndarray, level_of_measurement: Level = "nominal") -> float:
    """Krippendorff's alpha from long-form data (one unit id and value per judgment), for sparse designs."""
    _check_level(level_of_measurement)
    patterns = _patterns_from_long(units, values)
    if patterns is None:
        return float("nan")
    statistic = _alpha_statistic(patterns, level_of_measurement)
    return float(statistic(patterns.multiplicity[None, :].astype(float))[0])


def _percentile_interval(estimates: np.ndarray, confidence: float) -> tuple[float, float]:
    estimates = estimates[np.isfinite(estimates)]
    if len(estimates) == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return float(low), float(high)


def _bootstrap(
    statistic: Callable[[np.ndarray], np.ndarray],
    multiplicity: np.ndarray,
    block: int,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> tuple[float, float]:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    rng = np.random.default_rng(seed)
    blocks = _resampled_weights(multiplicity, n_resamples, rng, block)
    estimates = np.concatenate([statistic(weights) for weights in blocks]) if n_resamples else np.zeros(0)
    return _percentile_interval(estimates, confidence)


def bootstrap_alpha_ci(
    reliability_data: np.ndarray,
    level_of_measurement: Level,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of Krippendorff's alpha, resampling pairable units with replacement."""
    _check_level(level_of_measurement)
    patterns = _patterns(reliability_data)
    if patterns is None:
        return float("nan"), float("nan")
    statistic = _alpha_statistic(patterns, level_of_measurement)
    block = _block_size(patterns.codes)
    return _bootstrap(statistic, patterns.multiplicity, block, n_resamples, confidence, seed)


def bootstrap_alpha_long_ci(
    units: np.ndarray,
    values: np.ndarray,
    level_of_measurement: Level,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """``bootstrap_alpha_ci`` for long-form data (one unit id and value per judgment)."""
    _, low, high = krippendorff_alpha_long_with_ci(units, values, level_of_measurement, n_resamples, confidence, seed)
    return low, high


def krippendorff_alpha_long_with_ci(
    units: np.ndarray,
    values: np.ndarray,
    level_of_measurement: Level,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(alpha, low, high) from long-form data, finding the unit patterns once for the estimate and the interval."""
    _check_level(level_of_measurement)
    patterns = _patterns_from_long(units, values)
    if patterns is None:
        return float("nan"), float("nan"), float("nan")
    statistic = _alpha_statistic(patterns, level_of_measurement)
    estimate = float(statistic(patterns.multiplicity[None, :].astype(float))[0])
    block = _block_size(patterns.codes)
    return (estimate, *_bootstrap(statistic, patterns.multiplicity, block, n_resamples, confidence, seed))


def _count_patterns(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    table = np.asarray(counts)
    if table.ndim != 2:
        raise ValueError("counts must be a 2-D units × categories array")
    if np.any(table < 0) or np.any(table != np.round(table)):
        raise ValueError("counts must be non-negative whole numbers")
    table = table.astype(np.int64)
    if len(table) == 0:
        return table, np.zeros(0, dtype=np.int64)
    return _distinct_rows(table, int(table.max()) + 1)


def _fleiss_statistic(patterns: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    raters = patterns.sum(axis=1)
    if len(patterns) and np.any(raters != raters[0]):
        raise ValueError("fleiss_kappa needs the same number of ratings for every unit")
    n_raters = float(raters[0]) if len(patterns) else 0.0
    table = patterns.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_agreement = ((table**2).sum(axis=1) - n_raters) / (n_raters * (n_raters - 1.0))

    def statistic(weights: np.ndarray) -> np.ndarray:
        n_units = weights.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = (weights @ table) / (n_units * n_raters)[:, None]
            observed = (weights @ unit_agreement) / n_units
            chance = (shares**2).sum(axis=1)
            return (observed - chance) / (1.0 - chance)

    return statistic


def _percent_statistic(patterns: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    table = patterns.astype(float)
    raters = table.sum(axis=1)
    pairable = raters >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        unit_agreement = np.where(
            pairable,
            (table * (table - 1.0)).sum(axis=1) / (raters * (raters - 1.0)),
            0.0,
        )

    def statistic(weights: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (weights @ unit_agreement) / (weights @ pairable.astype(float))

    return statistic


_COUNT_STATISTICS: dict[str, Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "fleiss_kappa": _fleiss_statistic,
    "percent_agreement": _percent_statistic,
}


def _count_statistic(
    counts: np.ndarray, name: str
) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray]:
    if name not in _COUNT_STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(_COUNT_STATISTICS)}, not {name!r}")
    patterns, multiplicity = _count_patterns(counts)
    return _COUNT_STATISTICS[name](patterns), patterns, multiplicity


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa of a (units, categories) count table with the same number of raters per unit."""
    statistic, _, multiplicity = _count_statistic(counts, "fleiss_kappa")
    if len(multiplicity) == 0:
        return float("nan")
    return float(statistic(multiplicity[None, :].astype(float))[0])


def percent_agreement(counts: np.ndarray) -> float:
    """Mean share of agreeing rater pairs per unit, over units with at least two ratings (units × categories)."""
    statistic, _, multiplicity = _count_statistic(counts, "percent_agreement")
    if len(multiplicity) == 0:
        return float("nan")
    return float(statistic(multiplicity[None, :].astype(float))[0])


def bootstrap_counts_ci(
    counts: np.ndarray,
    statistic: CountStatistic,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of Fleiss' kappa or percent agreement, resampling units (table rows)."""
    function, patterns, multiplicity = _count_statistic(counts, statistic)
    if len(multiplicity) == 0:
        return float("nan"), float("nan")
    return _bootstrap(function, multiplicity, _block_size(patterns), n_resamples, confidence, seed)


def cohen_kappa(labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """Cohen's kappa between two raters' labels on the same items (nan when chance agreement is 1)."""
    a = np.asarray(labels_a)
    b = np.asarray(labels_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("cohen_kappa needs two 1-D label arrays of the same length")
    if len(a) == 0:
        return float("nan")
    _, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    codes_a, codes_b = codes[: len(a)], codes[len(a) :]
    n_labels = int(codes.max()) + 1
    observed = float(np.mean(codes_a == codes_b))
    chance = float(np.bincount(codes_a, minlength=n_labels) @ np.bincount(codes_b, minlength=n_labels)) / len(a) ** 2
    if chance >= 1.0:
        return float("nan")
    return 1.0 - (1.0 - observed) / (1.0 - chance)
