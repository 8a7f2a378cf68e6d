"""The seven drift scores, each as Evidently 0.7 computes it (SciPy where SciPy has it).

Inputs are prepared by :mod:`mlcycle.monitoring.data_drift`: finite float64 samples, or
per-category counts aligned between the two samples, or binned shares.

    >>> import numpy as np
    >>> round(psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])), 6)
    0.274653
    >>> chisquare(np.array([10, 10]), np.array([10, 10]))
    1.0
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from mlcycle.monitoring.wasserstein import BucketedPair, wasserstein

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.int64]


def ks(reference: Floats, current: Floats) -> float:
    """The two-sided two-sample Kolmogorov-Smirnov p-value (SciPy's ``ks_2samp``)."""
    from scipy import stats  # loaded on first use: importing mlcycle stays cheap

    return float(stats.ks_2samp(reference, current).pvalue)


def chisquare(reference: Counts, current: Counts) -> float:
    """Pearson's chi-squared p-value of the current counts against the reference counts
    scaled to the current size (SciPy's ``chisquare(current, reference * m / n)``).

    A category seen only in the current data has an expected count of 0: the statistic is
    infinite and the p-value 0 (drift), as in Evidently, without SciPy's warning.
    """
    from scipy import special

    n = int(reference.sum())
    m = int(current.sum())
    expected = reference * (m / n)
    observed = current.astype(np.float64)
    if np.any((expected == 0) & (observed > 0)):
        return 0.0
    present = expected > 0
    statistic = float(np.sum((observed[present] - expected[present]) ** 2 / expected[present]))
    dof = reference.size - 1
    if dof < 1:
        return 1.0  # one category on both sides: nothing can differ
    return float(special.chdtrc(dof, statistic))


def z_test(reference_first: int, n: int, current_first: int, m: int) -> float:
    """The two-proportion z-test p-value (two-sided) of "not the smallest value".

    ``reference_first`` and ``current_first`` count the smallest value of both samples
    together in each sample of sizes ``n`` and ``m`` (Evidently maps it to 0, the rest
    to 1). Both samples holding only that value give 1.
    """
    from scipy import special

    p1 = (n - reference_first) / n
    p2 = (m - current_first) / m
    pooled = (p1 * n + p2 * m) / (n + m)
    variance = pooled * (1 - pooled) * (1.0 / n + 1.0 / m)
    if variance <= 0:
        return 1.0
    z = (p1 - p2) / math.sqrt(variance)
    return float(2 * (1 - special.ndtr(abs(z))))


def wasserstein_normed(
    reference: Floats,
    current: Floats,
    *,
    std: float,
    lo: float,
    hi: float,
    pair: BucketedPair | None = None,
) -> float:
    """The 1-Wasserstein distance divided by max(reference's population std, 0.001).

    ``pair`` reuses samples already counted into buckets over ``[lo, hi]``.
    """
    norm = max(std, 0.001)
    if pair is not None:
        return (pair.wasserstein() if hi > lo else 0.0) / norm
    return wasserstein(reference, current, lo=lo, hi=hi) / norm


def jensenshannon(reference: Floats, current: Floats) -> float:
    """The Jensen-Shannon distance (natural log) between two share vectors (SciPy's)."""
    from scipy.spatial import distance

    return float(distance.jensenshannon(reference, current))


def psi(reference: Floats, current: Floats) -> float:
    """The population stability index: sum((r - c) * ln(r / c)); shares must be > 0."""
    return float(np.sum((reference - current) * np.log(reference / current)))


def kl_div(reference: Floats, current: Floats) -> float:
    """The Kullback-Leibler divergence of reference from current (SciPy's ``entropy``)."""
    from scipy import stats

    return float(stats.entropy(reference, current))
