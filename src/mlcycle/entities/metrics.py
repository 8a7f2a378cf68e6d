"""Metric series as columnar arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlcycle.entities import _html


@dataclass(frozen=True, kw_only=True)
class MetricBatch:
    """Points of one metric key, as parallel arrays (steps, timestamps in ms, values)."""

    key: str
    steps: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.values.shape[0])


@dataclass(frozen=True, kw_only=True)
class MetricHistory:
    """The series of one metric of one run, ordered by step.

    >>> h = client.get_metric_history(run_id, "loss")  # doctest: +SKIP
    >>> h.values.mean()  # doctest: +SKIP
    """

    run_id: str
    key: str
    steps: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def _repr_html_(self) -> str:
        """A small inline chart with the first, min, max and last values."""
        values = [float(v) for v in self.values.tolist()]
        finite = [v for v in values if np.isfinite(v)]
        pairs: list[tuple[str, object]] = [("Points", len(values))]
        if finite:
            pairs += [
                ("First", values[0]),
                ("Min", min(finite)),
                ("Max", max(finite)),
                ("Last", values[-1]),
            ]
        caption = f"{_html.fmt(self.key)} of run {_html.fmt(self.run_id)}"
        return _html.details(caption, pairs) + _html.sparkline(values)


@dataclass(frozen=True, kw_only=True)
class LatestMetric:
    """The latest point of a key: the one with the highest step (then timestamp)."""

    key: str
    value: float
    step: int
    timestamp: int
