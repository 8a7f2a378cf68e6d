"""Downsampling keeps extremes."""

from __future__ import annotations

import numpy as np

from mlcycle.entities import MetricHistory
from mlcycle.tracking.downsample import downsample


def history(values: np.ndarray) -> MetricHistory:
    n = len(values)
    return MetricHistory(
        run_id="r",
        key="m",
        steps=np.arange(n, dtype=np.int64),
        timestamps=np.arange(n, dtype=np.int64),
        values=values.astype(np.float64),
    )


def test_short_series_are_untouched() -> None:
    h = history(np.arange(10.0))
    assert downsample(h, 100) is h


def test_keeps_spikes_first_and_last() -> None:
    values = np.zeros(100_000)
    values[12_345] = 100.0
    values[67_890] = -50.0
    values[500] = np.nan
    out = downsample(history(values), 200)
    assert len(out) <= 200
    assert out.steps[0] == 0
    assert out.steps[-1] == 99_999
    assert 100.0 in out.values.tolist()
    assert -50.0 in out.values.tolist()
    assert np.all(np.diff(out.steps) > 0)
