"""Result containers the client returns: run lists and run comparisons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from mlcycle.entities import Run, _html


def run_row(run: Run) -> dict[str, Any]:
    """One flat record of a run: attributes, then ``params.*``, ``metrics.*``, ``tags.*``."""
    row: dict[str, Any] = {
        "run_id": run.id,
        "name": run.name,
        "experiment_id": run.experiment_id,
        "status": run.status.value,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "duration": run.duration,
        "parent_id": run.parent_id,
    }
    row.update({f"params.{k}": v for k, v in run.params.items()})
    row.update({f"metrics.{k}": v for k, v in run.metrics.items()})
    row.update({f"tags.{k}": v for k, v in run.tags.items()})
    return row


class RunList(list[Run]):
    """A page of runs; ``next_page_token`` fetches the next page (None on the last)."""

    def __init__(self, runs: Iterable[Run] = (), next_page_token: str | None = None) -> None:
        super().__init__(runs)
        self.next_page_token = next_page_token

    def _repr_html_(self) -> str:
        keys = sorted({k for run in self for k in run.metrics})[:8]
        rows = [
            [_html.fmt(r.id[:12]), _html.fmt(r.name), r.status.value]
            + [_html.fmt(r.metrics.get(k)) for k in keys]
            for r in self
        ]
        more = " (more on the next page)" if self.next_page_token else ""
        return _html.table(f"{len(self)} runs{more}", ["ID", "Name", "Status", *keys], rows)

    def to_pandas(self) -> pd.DataFrame:
        """One row per run: run_id, name, status, times, then params.*, metrics.*, tags.*."""
        import pandas as pd  # deferred: pandas takes ~0.4 s to import, and the CLI starts often

        return pd.DataFrame([run_row(r) for r in self])


@dataclass(frozen=True)
class RunComparison:
    """Params and latest metrics of several runs side by side.

    ``params`` and ``metrics`` map each key whose value differs between the runs (or that
    some runs lack) to the values in run order (None where a run lacks it); ``same_params``
    and ``same_metrics`` hold the keys where every run agrees.
    """

    runs: Sequence[Run]
    params: dict[str, list[str | None]] = field(default_factory=dict)
    metrics: dict[str, list[float | None]] = field(default_factory=dict)
    same_params: dict[str, str] = field(default_factory=dict)
    same_metrics: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, runs: Sequence[Run]) -> RunComparison:
        result = cls(runs=runs)
        for kind, store, same in (
            ("params", result.params, result.same_params),
            ("metrics", result.metrics, result.same_metrics),
        ):
            keys = sorted({k for r in runs for k in getattr(r, kind)})
            for key in keys:
                values = [getattr(r, kind).get(key) for r in runs]
                if all(v is not None for v in values) and all(_same(v, values[0]) for v in values):
                    same[key] = values[0]
                else:
                    store[key] = values
        return result

    def to_pandas(self) -> pd.DataFrame:
        """Rows ``params.<k>`` and ``metrics.<k>`` that differ; one column per run name."""
        import pandas as pd  # deferred, see RunList.to_pandas

        columns = _unique_labels(self.runs)
        rows: dict[str, list[Any]] = {f"params.{k}": list(v) for k, v in self.params.items()}
        rows.update({f"metrics.{k}": list(v) for k, v in self.metrics.items()})
        return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True  # NaN equals NaN for comparison purposes
    return a == b


def _unique_labels(runs: Sequence[Run]) -> list[str]:
    names = [r.name for r in runs]
    if len(set(names)) == len(names):
        return names
    return [f"{r.name} ({r.id[:8]})" for r in runs]
