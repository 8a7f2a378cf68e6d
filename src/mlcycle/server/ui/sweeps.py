"""Server-drawn SVG for sweeps: a scatter of a param against a metric, and parallel
coordinates over numeric params and the metric (no script, a few KB)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mlcycle.entities import Run


@dataclass(frozen=True)
class Axis:
    label: str
    values: list[float | None]
    lo: float
    hi: float

    def scale(self, value: float, top: float, bottom: float) -> float:
        span = self.hi - self.lo or 1.0
        return bottom - (value - self.lo) / span * (bottom - top)


def as_number(text: object) -> float | None:
    try:
        value = float(str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numeric_params(runs: Sequence[Run]) -> list[str]:
    """Params that are numbers in every run that has them, and vary."""
    keys = sorted({k for r in runs for k in r.params})
    found = []
    for key in keys:
        values = [as_number(r.params[key]) for r in runs if key in r.params]
        if values and all(v is not None for v in values) and len(set(values)) > 1:
            found.append(key)
    return found


def axis(label: str, values: list[float | None]) -> Axis | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return Axis(label, values, min(present), max(present))


def parallel(runs: Sequence[Run], params: Sequence[str], metric: str) -> list[Axis]:
    axes = [axis(p, [as_number(r.params.get(p)) for r in runs]) for p in params[:12]]
    axes.append(axis(metric, [r.metrics.get(metric) for r in runs]))
    return [a for a in axes if a is not None]
