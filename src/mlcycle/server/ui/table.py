"""The runs table's view: which columns, sort, filter, grouping and page a URL asks for,
and the rows and groups shown for a page of runs.

Everything about the view lives in the query string (``filter``, ``order``, ``cols``,
``group``, ``page``, ``limit``), so a view is a link. Columns are written the way the filter
language names fields, with ``:min`` or ``:max`` after a metric for its extremes over the
run's whole series (``metrics.loss:min``); plain ``metrics.loss`` is the last value.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from mlcycle.entities import Run
from mlcycle.errors import InvalidInputError

ATTRIBUTES = ("name", "status", "start_time", "end_time", "duration", "run_id", "parent_id")
_ENTITIES = ("params", "metrics", "tags", "attributes")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_COLUMNS = 60
GROUP_SCAN = 5000  # runs read to group by (a group-by over more says so on the page)


@dataclass(frozen=True)
class Column:
    """One column: ``entity`` (params, metrics, tags, attributes), ``key`` and, for
    metrics, ``agg`` (last, min or max)."""

    entity: str
    key: str
    agg: str = "last"

    @property
    def spec(self) -> str:
        base = f"{self.entity}.{self.key}"
        return base if self.agg == "last" else f"{base}:{self.agg}"

    @property
    def label(self) -> str:
        name = self.key if self.entity != "attributes" else self.key.replace("_", " ")
        return name if self.agg == "last" else f"{name} ({self.agg})"

    @property
    def sortable(self) -> str | None:
        """The order-by field, when the store can sort by this column."""
        if self.agg != "last" or self.key in ("duration", "run_id"):
            return None
        return f"{self.entity}.{self.key}" if self.entity != "attributes" else self.key

    @property
    def numeric(self) -> bool:
        return self.entity == "metrics" or self.key in ("start_time", "end_time", "duration")


def parse_column(spec: str) -> Column:
    """``metrics.loss:min`` -> Column("metrics", "loss", "min"). Raises InvalidInputError
    naming the ``cols`` field for anything else."""
    text = spec.strip()
    entity, dot, rest = text.partition(".")
    if not dot or entity not in _ENTITIES or not rest:
        raise InvalidInputError(
            f"column {text!r} must look like params.KEY, metrics.KEY[:min|:max], tags.KEY "
            f"or attributes.NAME",
            field="cols",
        )
    key, agg = rest, "last"
    if entity == "metrics" and rest.rsplit(":", 1)[-1] in ("min", "max", "last") and ":" in rest:
        key, agg = rest.rsplit(":", 1)
    if entity == "attributes" and key not in ATTRIBUTES:
        raise InvalidInputError(
            f"attribute column {key!r} is not one of {', '.join(ATTRIBUTES)}", field="cols"
        )
    return Column(entity, key, agg)


def parse_columns(text: str | None) -> list[Column]:
    if not text:
        return []
    specs = [s for s in text.split(",") if s.strip()]
    if len(specs) > MAX_COLUMNS:
        raise InvalidInputError(f"at most {MAX_COLUMNS} columns, got {len(specs)}", field="cols")
    columns: list[Column] = []
    for spec in specs:
        column = parse_column(spec)
        if column not in columns:
            columns.append(column)
    return columns


def default_columns(runs: Sequence[Run], primary_metric: str | None) -> list[Column]:
    """Up to 8 metrics (the problem's primary metric first) and 4 params seen on the page."""
    metrics: list[str] = [primary_metric] if primary_metric else []
    params: list[str] = []
    for run in runs:
        metrics.extend(k for k in sorted(run.metrics) if k not in metrics)
        params.extend(k for k in sorted(run.params) if k not in params)
    return [Column("metrics", k) for k in metrics[:8]] + [Column("params", k) for k in params[:4]]


@dataclass(frozen=True)
class KeysSeen:
    """The keys the runs of a page carry, for the column picker."""

    params: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def keys_seen(runs: Sequence[Run], limit: int = 100) -> KeysSeen:
    params: set[str] = set()
    metrics: set[str] = set()
    tags: set[str] = set()
    for run in runs:
        params.update(run.params)
        metrics.update(run.metrics)
        tags.update(k for k in run.tags if not k.startswith("mlflow."))
    return KeysSeen(sorted(params)[:limit], sorted(metrics)[:limit], sorted(tags)[:limit])


Extremes = Callable[[str, str], tuple[float, float] | None]


def cell(run: Run, column: Column, extremes: Extremes) -> object:
    """The value of ``column`` for ``run`` (None when the run lacks it)."""
    if column.entity == "params":
        return run.params.get(column.key)
    if column.entity == "tags":
        return run.tags.get(column.key)
    if column.entity == "metrics":
        if column.agg == "last":
            return run.metrics.get(column.key)
        if column.key not in run.metrics:
            return None
        found = extremes(run.id, column.key)
        if found is None:
            return None
        return found[0] if column.agg == "min" else found[1]
    key = column.key
    if key == "run_id":
        return run.id
    if key == "duration":
        return run.duration
    value: object = getattr(run, key)
    return value


@dataclass(frozen=True)
class Group:
    """Runs sharing one value of the group-by field, and per metric column the mean, min
    and max of the group's values."""

    value: str
    count: int
    stats: Mapping[str, tuple[float, float, float] | None]


def group_runs(
    runs: Sequence[Run], by: Column, columns: Sequence[Column], extremes: Extremes
) -> list[Group]:
    """Group ``runs`` by the value of ``by``; aggregates for numeric metric columns."""
    buckets: dict[str, list[Run]] = {}
    for run in runs:
        value = cell(run, by, extremes)
        buckets.setdefault("(none)" if value is None else str(value), []).append(run)
    groups = []
    for value, members in sorted(buckets.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        stats: dict[str, tuple[float, float, float] | None] = {}
        for column in columns:
            if column.entity != "metrics":
                continue
            values = [
                float(v)
                for r in members
                if isinstance(v := cell(r, column, extremes), int | float) and math.isfinite(v)
            ]
            stats[column.spec] = (
                (statistics.fmean(values), min(values), max(values)) if values else None
            )
        groups.append(Group(value, len(members), stats))
    return groups


def parse_limit(text: str | None) -> int:
    if not text:
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(
            f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit"
        )
    return limit
