"""Each drift method against SciPy (or a hand computation) on fixed data.

The reference computations below follow Evidently 0.7's code path by path (binning with
``np.histogram_bin_edges(..., "sturges")`` on the concatenated samples, one bin per value
otherwise, empty bins filled for PSI and KL), written independently of mlcycle's.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from mlcycle.monitoring import DriftMethod, binning, drift, stattests
from mlcycle.monitoring.wasserstein import BucketedPair, wasserstein

Floats = npt.NDArray[np.float64]
RNG_SEED = 20240607


def _samples(n: int, m: int, shift: float = 0.3) -> tuple[Floats, Floats]:
    rng = np.random.default_rng(RNG_SEED)
    return rng.normal(0.0, 1.0, n), rng.normal(shift, 1.2, m)


def _evidently_shares(ref: Floats, cur: Floats, fill: bool) -> tuple[Floats, Floats]:
    """Evidently's get_binned_data for a numeric column, as its source reads."""
    if len(np.unique(ref)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = np.union1d(ref, cur)
        r = np.array([np.sum(ref == k) for k in keys]) / len(ref)
        c = np.array([np.sum(cur == k) for k in keys]) / len(cur)
    if fill:
        for p in (r, c):
            smallest = p[p != 0].min()
            np.place(p, p == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return r, c


def _score(ref: object, cur: object, method: str) -> float:
    report = drift(pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}), method=method)
    score = report["x"].score
    assert score is not None, report["x"]
    return score


# --- tests with p-values ---------------------------------------------------------------


def test_ks_is_scipys_two_sample_p_value() -> None:
    ref, cur = _samples(300, 250)
    assert _score(ref, cur, "ks") == pytest.approx(stats.ks_2samp(ref, cur).pvalue, abs=1e-15)


def test_chisquare_scales_reference_counts_to_the_current_size() -> None:
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 20 + ["b"] * 25 + ["c"] * 15
    expected = stats.chisquare([20, 25, 15], np.array([50, 30, 20]) * 60 / 100).pvalue
    assert _score(ref, cur, "chisquare") == pytest.approx(expected, abs=1e-15)


def test_chisquare_with_a_category_only_in_the_current_data_is_drift() -> None:
    report = drift(
        pd.DataFrame({"c": ["a", "b", "c"] * 20}), pd.DataFrame({"c": ["a", "b", "c", "d"] * 15})
    )
    assert report["c"].method is DriftMethod.CHISQUARE
    assert report["c"].score == 0.0
    assert report["c"].drifted is True


def test_z_test_by_hand() -> None:
    # reference: 30 of 100 are "yes"; current: 45 of 90. The smallest value ("no") maps to 0.
    ref = ["no"] * 70 + ["yes"] * 30
    cur = ["no"] * 45 + ["yes"] * 45
    p1, p2 = 30 / 100, 45 / 90
    pooled = (30 + 45) / 190
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 90))
    expected = 2 * (1 - stats.norm.cdf(abs(z)))
    assert _score(ref, cur, "z") == pytest.approx(expected, abs=1e-15)
    assert stattests.z_test(100, 100, 90, 90) == 1.0  # one value everywhere


# --- distances -------------------------------------------------------------------------


def test_wasserstein_is_normed_by_the_population_std_of_the_reference() -> None:
    ref, cur = _samples(3000, 2000)
    expected = stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)
    assert _score(ref, cur, "wasserstein") == pytest.approx(expected, abs=1e-12)


def test_wasserstein_norm_has_a_floor_of_a_thousandth() -> None:
    ref = np.full(2000, 5.0)
    cur = np.full(2000, 5.5)
    assert _score(ref, cur, "wasserstein") == pytest.approx(0.5 / 0.001)


@pytest.mark.parametrize(
    "kind", ["normal", "shifted", "integers", "lognormal", "ties", "identical", "outlier"]
)
@pytest.mark.parametrize("sizes", [(6000, 5000), (20000, 20000), (3000, 17000)])
def test_bucketed_wasserstein_equals_scipy(kind: str, sizes: tuple[int, int]) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{kind}{sizes}".encode()))
    n, m = sizes
    u, v = rng.normal(size=n), rng.normal(size=m)
    if kind == "shifted":
        v += 0.5
    elif kind == "integers":
        u, v = rng.integers(0, 40, n).astype(np.float64), rng.integers(0, 43, m).astype(np.float64)
    elif kind == "lognormal":
        u, v = rng.lognormal(0, 2, n), rng.lognormal(0.1, 2, m)
    elif kind == "ties":
        u, v = np.round(u, 1), np.round(v, 1)
    elif kind == "identical":
        v = u[:m] if m <= n else np.concatenate([u, u])[:m]
    elif kind == "outlier":
        u[0] = 1e6
    expected = stats.wasserstein_distance(u, v)
    lo, hi = float(min(u.min(), v.min())), float(max(u.max(), v.max()))
    for buckets in (30, 300, 30 * 120):
        pair = BucketedPair(u, v, lo=lo, hi=hi, buckets=buckets)
        assert pair.wasserstein() == pytest.approx(expected, rel=1e-11, abs=1e-14)
    assert wasserstein(u, v) == pytest.approx(expected, rel=1e-11, abs=1e-14)


def test_wasserstein_of_small_samples_and_of_one_value() -> None:
    assert wasserstein(np.array([0.0, 1.0, 3.0]), np.array([5.0, 6.0, 8.0])) == pytest.approx(5)
    assert wasserstein(np.array([2.0]), np.array([2.0, 2.0])) == 0.0


def test_jensenshannon_with_sturges_bins_and_natural_log() -> None:
    ref, cur = _samples(2500, 1800)
    r, c = _evidently_shares(ref, cur, fill=False)
    assert _score(ref, cur, "jensenshannon") == pytest.approx(
        distance.jensenshannon(r, c), abs=1e-14
    )


def test_jensenshannon_of_categories_one_bin_per_value() -> None:
    ref = ["a"] * 60 + ["b"] * 40
    cur = ["a"] * 30 + ["b"] * 50 + ["c"] * 20
    expected = distance.jensenshannon([0.6, 0.4, 0.0], [0.3, 0.5, 0.2])
    assert _score(ref, cur, "jensenshannon") == pytest.approx(expected, abs=1e-15)


def test_psi_by_hand_with_empty_bins_filled() -> None:
    ref = ["a"] * 60 + ["b"] * 40
    cur = ["a"] * 30 + ["b"] * 50 + ["c"] * 20
    r = np.array([0.6, 0.4, 0.0001])  # the empty bin becomes 1e-4
    c = np.array([0.3, 0.5, 0.2])
    expected = float(np.sum((r - c) * np.log(r / c)))
    assert _score(ref, cur, "psi") == pytest.approx(expected, abs=1e-15)


def test_psi_and_kl_on_numeric_bins() -> None:
    ref, cur = _samples(2500, 1800, shift=1.5)  # shifted: some bins empty on one side
    r0, c0 = _evidently_shares(ref, cur, fill=False)
    assert (r0 == 0).any() or (c0 == 0).any()  # the filling rule is exercised
    r, c = _evidently_shares(ref, cur, fill=True)
    assert _score(ref, cur, "psi") == pytest.approx(
        float(np.sum((r - c) * np.log(r / c))), abs=1e-13
    )
    assert _score(ref, cur, "kl_div") == pytest.approx(float(stats.entropy(r, c)), abs=1e-13)


def test_kl_divergence_of_categories_is_scipys_entropy() -> None:
    ref = ["x"] * 10 + ["y"] * 70 + ["z"] * 20
    cur = ["x"] * 25 + ["y"] * 50 + ["z"] * 25
    expected = stats.entropy([0.1, 0.7, 0.2], [0.25, 0.5, 0.25])
    assert _score(ref, cur, "kl_div") == pytest.approx(expected, abs=1e-15)


def test_few_valued_numeric_columns_get_one_bin_per_value() -> None:
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 15, 3000).astype(np.float64) / 2  # 15 values: no Sturges bins
    cur = rng.integers(0, 18, 2000).astype(np.float64) / 2
    r, c = _evidently_shares(ref, cur, fill=False)
    assert r.size == 18
    assert _score(ref, cur, "jensenshannon") == pytest.approx(
        distance.jensenshannon(r, c), abs=1e-14
    )


# --- binning ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        np.linspace(0, 1, 1024),  # 2**10 values: log2 is exact
        np.arange(2048, dtype=np.float64),
        np.random.default_rng(1).normal(size=777),
        np.array([0.1, 0.1, 0.1, 0.2]),
        np.array([7.0, 7.0]),
    ],
)
def test_sturges_edges_are_numpys(values: Floats) -> None:
    first, last, bins = binning.sturges_range(
        float(values.min()), float(values.max()), values.size, integer=False
    )
    edges = np.histogram_bin_edges(values, bins="sturges")
    assert bins == edges.size - 1
    np.testing.assert_array_equal(np.linspace(first, last, bins + 1), edges)


def test_sturges_edges_for_integers_are_never_narrower_than_one() -> None:
    values = np.arange(22).repeat(100)  # 2200 integers spanning 21: width would be < 1
    first, last, bins = binning.sturges_range(0, 21, values.size, integer=True)
    np.testing.assert_array_equal(
        np.linspace(first, last, bins + 1), np.histogram_bin_edges(values, bins="sturges")
    )


def test_histogram_counts_match_numpy_with_explicit_edges() -> None:
    rng = np.random.default_rng(5)
    values = np.round(rng.normal(size=5000), 1)  # many values sit exactly on an edge
    edges = np.histogram_bin_edges(values, bins="sturges")
    counts = binning.histogram(values, float(edges[0]), float(edges[-1]), edges.size - 1)
    np.testing.assert_array_equal(counts, np.histogram(values, edges)[0])


def test_fill_empty_uses_a_millionth_of_tiny_shares() -> None:
    shares = np.array([0.99995, 0.00005, 0.0])
    assert binning.fill_empty(shares)[2] == pytest.approx(0.00005 / 1e6)
    np.testing.assert_array_equal(binning.fill_empty(np.array([0.5, 0.5])), [0.5, 0.5])
