"""Compare two dataset profiles (or schemas): what columns came, went or changed.

    >>> import pandas as pd
    >>> from mlcycle.datasets.profile import profile
    >>> old = profile(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    >>> new = profile(pd.DataFrame({"a": [1.5, 2.0, None], "c": [1, 2, 3]}))
    >>> d = diff_profiles(old, new)
    >>> d.schema.added_columns, d.schema.removed_columns, d.schema.type_changes[0].new_type
    (('c',), ('b',), 'double')
    >>> [c.metric for c in d.column("a").changes]
    ['missing_share', 'mean', 'std', 'distinct_count', 'min', 'max']

Per common column the metrics compared are ``missing_share``, ``mean``, ``std``,
``distinct_count``, ``min`` and ``max``; a metric is listed only when it changed (numbers
compared with a relative tolerance ``rtol``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets.profile import ColumnProfile, DatasetProfile
from mlcycle.datasets.schema import logical_type
from mlcycle.entities import _html
from mlcycle.errors import InvalidInputError

Value = int | float | str | bool | None
METRICS = ("missing_share", "mean", "std", "distinct_count", "min", "max")


@dataclass(frozen=True)
class TypeChange:
    column: str
    old_type: str  # Arrow type names
    new_type: str
    old_logical: str
    new_logical: str


@dataclass(frozen=True)
class SchemaDiff:
    added_columns: tuple[str, ...] = ()
    removed_columns: tuple[str, ...] = ()
    type_changes: tuple[TypeChange, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.added_columns or self.removed_columns or self.type_changes)


@dataclass(frozen=True)
class MetricChange:
    metric: str
    old: Value
    new: Value

    @property
    def delta(self) -> float | None:
        """``new - old`` for numbers, else None."""
        if _is_number(self.old) and _is_number(self.new):
            return float(self.new) - float(self.old)  # type: ignore[arg-type]
        return None

    @property
    def relative(self) -> float | None:
        """``delta / |old|``, None when not numeric or ``old`` is 0."""
        delta = self.delta
        if delta is None or not self.old:
            return None
        return delta / abs(float(self.old))


@dataclass(frozen=True)
class ColumnDiff:
    column: str
    changes: tuple[MetricChange, ...]


@dataclass(frozen=True)
class ProfileDiff:
    old_rows: int
    new_rows: int
    schema: SchemaDiff
    columns: tuple[ColumnDiff, ...]  # common columns with at least one changed metric

    @property
    def has_changes(self) -> bool:
        return self.old_rows != self.new_rows or self.schema.has_changes or bool(self.columns)

    def column(self, name: str) -> ColumnDiff:
        for c in self.columns:
            if c.column == name:
                return c
        return ColumnDiff(name, ())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; metric changes carry ``delta`` and ``relative`` too."""
        return {
            "old_rows": self.old_rows,
            "new_rows": self.new_rows,
            "schema": {
                "added_columns": list(self.schema.added_columns),
                "removed_columns": list(self.schema.removed_columns),
                "type_changes": [asdict(t) for t in self.schema.type_changes],
            },
            "columns": [
                {
                    "column": c.column,
                    "changes": [
                        {**asdict(m), "delta": m.delta, "relative": m.relative} for m in c.changes
                    ],
                }
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileDiff:
        try:
            schema = data["schema"]
            return cls(
                old_rows=int(data["old_rows"]),
                new_rows=int(data["new_rows"]),
                schema=SchemaDiff(
                    tuple(schema["added_columns"]),
                    tuple(schema["removed_columns"]),
                    tuple(TypeChange(**t) for t in schema["type_changes"]),
                ),
                columns=tuple(
                    ColumnDiff(
                        c["column"],
                        tuple(MetricChange(m["metric"], m["old"], m["new"]) for m in c["changes"]),
                    )
                    for c in data["columns"]
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a profile diff: {exc!r}", field="data") from exc

    def _repr_html_(self) -> str:
        rows = [
            [
                "rows",
                "",
                _html.fmt(self.old_rows),
                _html.fmt(self.new_rows),
                _delta(MetricChange("rows", self.old_rows, self.new_rows)),
            ]
        ]
        rows += [[_html.fmt(c), "added", "", "", ""] for c in self.schema.added_columns]
        rows += [[_html.fmt(c), "removed", "", "", ""] for c in self.schema.removed_columns]
        rows += [
            [_html.fmt(t.column), "type", _html.fmt(t.old_type), _html.fmt(t.new_type), ""]
            for t in self.schema.type_changes
        ]
        for c in self.columns:
            for m in c.changes:
                rows.append(
                    [_html.fmt(c.column), m.metric, _html.fmt(m.old), _html.fmt(m.new), _delta(m)]
                )
        caption = "Dataset diff" + ("" if self.has_changes else ": no changes")
        return _html.table(caption, ["column", "what", "old", "new", "change"], rows)


def diff_schemas(old: pa.Schema, new: pa.Schema) -> SchemaDiff:
    """Added, removed and retyped columns between two Arrow schemas.

    >>> diff_schemas(pa.schema({"a": pa.int64()}), pa.schema({"a": pa.float64()})).has_changes
    True
    """
    old_types = {f.name: f.type for f in old}
    new_types = {f.name: f.type for f in new}
    return SchemaDiff(
        added_columns=tuple(n for n in new_types if n not in old_types),
        removed_columns=tuple(n for n in old_types if n not in new_types),
        type_changes=tuple(
            TypeChange(
                n,
                str(old_types[n]),
                str(new_types[n]),
                logical_type(old_types[n]),
                logical_type(new_types[n]),
            )
            for n in old_types
            if n in new_types and old_types[n] != new_types[n]
        ),
    )


def diff_profiles(old: DatasetProfile, new: DatasetProfile, *, rtol: float = 1e-9) -> ProfileDiff:
    """Differences from ``old`` to ``new``: rows, schema, and per-column metrics."""
    if not isinstance(old, DatasetProfile) or not isinstance(new, DatasetProfile):
        raise InvalidInputError("diff_profiles compares two DatasetProfile objects", field="old")
    if isinstance(rtol, bool) or not isinstance(rtol, int | float) or rtol < 0:
        raise InvalidInputError(f"rtol must be a number >= 0, got {rtol!r}", field="rtol")
    old_cols = {c.name: c for c in old.columns}
    new_cols = {c.name: c for c in new.columns}
    schema = SchemaDiff(
        added_columns=tuple(n for n in new_cols if n not in old_cols),
        removed_columns=tuple(n for n in old_cols if n not in new_cols),
        type_changes=tuple(
            TypeChange(
                n,
                old_cols[n].arrow_type,
                new_cols[n].arrow_type,
                old_cols[n].logical_type,
                new_cols[n].logical_type,
            )
            for n in old_cols
            if n in new_cols and old_cols[n].arrow_type != new_cols[n].arrow_type
        ),
    )
    columns = []
    for name, before in old_cols.items():
        if name in new_cols:
            changes = tuple(
                MetricChange(metric, a, b)
                for metric in METRICS
                if _changed(
                    a := _metric(before, metric), b := _metric(new_cols[name], metric), rtol
                )
            )
            if changes:
                columns.append(ColumnDiff(name, changes))
    return ProfileDiff(old.num_rows, new.num_rows, schema, tuple(columns))


def _metric(col: ColumnProfile, metric: str) -> Value:
    if metric in ("mean", "std"):
        return None if col.numeric is None else getattr(col.numeric, metric)
    value: Value = getattr(col, metric)
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _changed(a: Value, b: Value, rtol: float) -> bool:
    if _is_number(a) and _is_number(b):
        return not math.isclose(float(a), float(b), rel_tol=rtol, abs_tol=0.0)  # type: ignore[arg-type]
    return a != b


def _delta(m: MetricChange) -> str:
    if m.delta is None:
        return ""
    relative = "" if m.relative is None else f" ({m.relative:+.1%})"
    return f"{m.delta:+.4g}{relative}"
