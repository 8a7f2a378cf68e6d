"""Common cleanings as pure functions that also say what they did.

Each function takes a pyarrow Table (or a pandas DataFrame) and returns ``Cleaned(table,
step)``: a new Table and a :class:`CleaningStep` (name, parameters, rows before and after,
and computed details such as fill values) to record as lineage. :func:`replay` applies
recorded steps again, with the recorded fill values, e.g. to serving data::

    >>> import pyarrow as pa
    >>> table, step = impute_missing(pa.table({"x": [1.0, None, 3.0]}), {"x": "mean"})
    >>> table["x"].to_pylist(), step.details["fill_values"]
    ([1.0, 2.0, 3.0], {'x': 2.0})

Missing means null, or NaN in float columns, as everywhere in :mod:`mlcycle.datasets`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets._checks import jsonable_row, scalar_like
from mlcycle.datasets._strategies import Constant, Strategy
from mlcycle.datasets.reading import table_from_pandas
from mlcycle.datasets.schema import NUMERIC_TYPES, logical_type
from mlcycle.errors import InvalidInputError

__all__ = [
    "Cleaned",
    "CleaningStep",
    "Constant",
    "Strategy",
    "clip_range",
    "drop_duplicates",
    "drop_missing",
    "filter_range",
    "impute_missing",
    "replay",
]


@dataclass(frozen=True)
class CleaningStep:
    """What a cleaning did: enough to record lineage and to :func:`replay` it."""

    name: str
    params: dict[str, Any]
    rows_before: int
    rows_after: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CleaningStep:
        try:
            return cls(
                name=str(data["name"]),
                params=dict(data["params"]),
                rows_before=int(data["rows_before"]),
                rows_after=int(data["rows_after"]),
                details=dict(data.get("details", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a cleaning step: {exc!r}", field="data") from exc


class Cleaned(NamedTuple):
    table: pa.Table
    step: CleaningStep


def drop_duplicates(data: pa.Table | pd.DataFrame, columns: Sequence[str] | None = None) -> Cleaned:
    """Keep the first of rows equal in ``columns`` (default: all); missing equals missing.

    >>> import pyarrow as pa
    >>> drop_duplicates(pa.table({"a": [1, 1, 2]})).table["a"].to_pylist()
    [1, 2]
    """
    table = _as_table(data)
    keys = _columns(table, columns, "columns")
    row = "__mlcycle_row__"
    indexed = table.select(keys).append_column(row, pa.array(np.arange(table.num_rows)))
    try:
        firsts = indexed.group_by(keys, use_threads=False).aggregate([(row, "min")])
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InvalidInputError(
            f"cannot compare rows on columns {keys}: {exc}", field="columns"
        ) from exc
    keep = np.sort(firsts[f"{row}_min"].to_numpy())
    return _done(table, table.take(pa.array(keep)), "drop_duplicates", {"columns": keys})


def drop_missing(
    data: pa.Table | pd.DataFrame,
    columns: Sequence[str] | None = None,
    how: Literal["any", "all"] = "any",
) -> Cleaned:
    """Drop rows missing a value in any (or all) of ``columns`` (default: all columns).

    >>> import pyarrow as pa
    >>> drop_missing(pa.table({"a": [1.0, None, float("nan")]})).table.num_rows
    1
    """
    table = _as_table(data)
    keys = _columns(table, columns, "columns")
    if how not in ("any", "all"):
        raise InvalidInputError(f"how must be 'any' or 'all', got {how!r}", field="how")
    masks = [_missing(table[c]) for c in keys]
    drop = np.logical_or.reduce(masks) if how == "any" else np.logical_and.reduce(masks)
    cleaned = table.filter(pa.array(~drop))
    return _done(table, cleaned, "drop_missing", {"columns": keys, "how": how})


def impute_missing(data: pa.Table | pd.DataFrame, strategies: Mapping[str, Strategy]) -> Cleaned:
    """Fill missing values per column: ``"mean"``, ``"median"`` (numbers), ``"mode"`` (the
    most frequent value, the smallest on ties) or a :class:`Constant`.

    An integer column filled with a non-integer mean or median becomes float64.

    >>> import pyarrow as pa
    >>> t = pa.table({"c": ["a", None, "a", "b"]})
    >>> impute_missing(t, {"c": "mode"}).table["c"].to_pylist()
    ['a', 'a', 'a', 'b']
    """
    table = original = _as_table(data)
    if not isinstance(strategies, Mapping) or not strategies:
        raise InvalidInputError(
            "strategies must map column names to a strategy", field="strategies"
        )
    _columns(table, list(strategies), "strategies")
    fill_values: dict[str, Any] = {}
    filled: dict[str, int] = {}
    params: dict[str, Any] = {}
    for name, strategy in strategies.items():
        column = table[name].combine_chunks()
        missing = _missing(column)
        value = _fill_value(name, column, missing, strategy)
        params[name] = (
            {"constant": _json(strategy.value)} if isinstance(strategy, Constant) else strategy
        )
        fill_values[name] = _json(value)
        filled[name] = int(missing.sum())
        table = table.set_column(
            table.schema.get_field_index(name), name, _fill(name, column, missing, value)
        )
    details = {"fill_values": fill_values, "filled": filled}
    return _done(original, table, "impute_missing", {"strategies": params}, details)


def filter_range(
    data: pa.Table | pd.DataFrame,
    column: str,
    min: Any = None,
    max: Any = None,
    keep_missing: bool = True,
) -> Cleaned:
    """Drop rows whose ``column`` lies outside ``[min, max]`` (inclusive).

    >>> import pyarrow as pa
    >>> filter_range(pa.table({"age": [5, 50, 500]}), "age", min=0, max=120).table.num_rows
    2
    """
    table = _as_table(data)
    arr = _range_column(table, column, min, max)
    outside = _outside(arr, min, max)
    drop = outside if keep_missing else outside | _missing(arr)
    params = {"column": column, "min": _json(min), "max": _json(max), "keep_missing": keep_missing}
    return _done(table, table.filter(pa.array(~drop)), "filter_range", params)


def clip_range(
    data: pa.Table | pd.DataFrame,
    column: str,
    min: Any = None,
    max: Any = None,
) -> Cleaned:
    """Replace values below ``min`` by ``min`` and above ``max`` by ``max``; missing stay.

    >>> import pyarrow as pa
    >>> clip_range(pa.table({"x": [-1.0, 0.5, 9.0]}), "x", min=0, max=1).table["x"].to_pylist()
    [0.0, 0.5, 1.0]
    """
    table = original = _as_table(data)
    arr = _range_column(table, column, min, max)
    clipped: dict[str, int] = {}
    for side, bound, compare in (("low", min, pc.less), ("high", max, pc.greater)):
        if bound is not None:
            scalar = _scalar(bound, arr, "min" if side == "low" else "max", strict=True)
            hit = pc.fill_null(compare(arr, scalar), False)
            clipped[side] = int(pc.sum(hit).as_py() or 0)
            arr = pc.if_else(hit, scalar, arr)
    table = table.set_column(table.schema.get_field_index(column), column, arr)
    params = {"column": column, "min": _json(min), "max": _json(max)}
    return _done(original, table, "clip_range", params, {"clipped": clipped})


def replay(data: pa.Table | pd.DataFrame, steps: Sequence[CleaningStep]) -> pa.Table:
    """Apply recorded steps again; imputation reuses the recorded fill values.

    >>> import pyarrow as pa
    >>> _, step = impute_missing(pa.table({"x": [1.0, None]}), {"x": "mean"})
    >>> replay(pa.table({"x": [None, 5.0]}), [step])["x"].to_pylist()
    [1.0, 5.0]
    """
    table = _as_table(data)
    for step in steps:
        p = step.params
        if step.name == "drop_duplicates":
            table = drop_duplicates(table, p["columns"]).table
        elif step.name == "drop_missing":
            table = drop_missing(table, p["columns"], p["how"]).table
        elif step.name == "impute_missing":
            fills = step.details["fill_values"]
            table = impute_missing(table, {c: Constant(v) for c, v in fills.items()}).table
        elif step.name == "filter_range":
            table = filter_range(table, p["column"], p["min"], p["max"], p["keep_missing"]).table
        elif step.name == "clip_range":
            table = clip_range(table, p["column"], p["min"], p["max"]).table
        else:
            raise InvalidInputError(f"unknown cleaning step '{step.name}'", field="steps")
    return table


def _as_table(data: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return table_from_pandas(data)
    raise InvalidInputError(
        f"expected a pyarrow Table or pandas DataFrame, got {type(data).__name__}", field="data"
    )


def _columns(table: pa.Table, columns: Sequence[str] | None, argument: str) -> list[str]:
    if columns is None:
        return list(table.column_names)
    if isinstance(columns, str):
        columns = [columns]
    unknown = [c for c in columns if c not in table.column_names]
    if unknown:
        raise InvalidInputError(
            f"{argument}: unknown column(s) {', '.join(map(repr, unknown))}", field=argument
        )
    if not columns:
        raise InvalidInputError(f"{argument} must name at least one column", field=argument)
    return list(columns)


def _missing(arr: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    mask = pc.is_null(arr, nan_is_null=True)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _json(value: Any) -> Any:
    return jsonable_row({"v": value})["v"]


def _fill_value(name: str, column: pa.Array, missing: np.ndarray[Any, Any], how: Any) -> Any:
    if isinstance(how, Constant):
        return how.value
    if how not in ("mean", "median", "mode"):
        raise InvalidInputError(
            f"column '{name}': unknown strategy {how!r}; use 'mean', 'median', 'mode' or "
            "Constant(value)",
            field=name,
        )
    present = column.filter(pa.array(~missing))
    if pa.types.is_dictionary(present.type):
        present = present.dictionary_decode()
    if len(present) == 0:
        raise InvalidInputError(
            f"column '{name}': all values are missing, no {how} to impute", field=name
        )
    if how == "mode":
        counts = pc.value_counts(present).flatten()
        order = pc.sort_indices(
            pa.table({"c": counts[1], "v": counts[0]}),
            sort_keys=[("c", "descending"), ("v", "ascending")],
        )
        return counts[0][order[0].as_py()].as_py()
    if logical_type(column.type) not in NUMERIC_TYPES:
        raise InvalidInputError(
            f"column '{name}': strategy '{how}' needs a numeric column, not {column.type}",
            field=name,
        )
    values = present.cast(pa.float64())
    if how == "mean":
        return pc.mean(values).as_py()
    return pc.quantile(values, q=0.5, interpolation="linear")[0].as_py()


def _fill(name: str, column: pa.Array, missing: np.ndarray[Any, Any], value: Any) -> pa.Array:
    if not missing.any():
        return column
    original_type = column.type
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()  # the fill value may not be in the dictionary
    try:
        scalar = scalar_like(value, column.type)
    except (pa.ArrowException, TypeError, ValueError):
        scalar = None
    if scalar is None or scalar.type != column.type:
        if logical_type(column.type) == "integer" and isinstance(value, float):
            column = column.cast(pa.float64())  # a mean of 2.5 does not fit an integer
            scalar = pa.scalar(value, pa.float64())
        else:
            raise InvalidInputError(
                f"column '{name}': fill value {value!r} does not fit type {column.type}",
                field=name,
            )
    result = pc.if_else(pa.array(missing), scalar, column)
    if pa.types.is_dictionary(original_type):
        result = result.dictionary_encode()
    return result


def _range_column(table: pa.Table, column: str, lo: Any, hi: Any) -> pa.Array:
    _columns(table, [column], "column")
    if lo is None and hi is None:
        raise InvalidInputError("give min, max or both", field="min")
    try:
        wrong = lo is not None and hi is not None and lo > hi
    except TypeError:
        raise InvalidInputError(f"min {lo!r} and max {hi!r} do not compare", field="min") from None
    if wrong:
        raise InvalidInputError(f"min {lo!r} is greater than max {hi!r}", field="min")
    arr = table[column].combine_chunks()
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def _scalar(value: Any, arr: pa.Array, argument: str, *, strict: bool = False) -> pa.Scalar:
    """``value`` for comparing with (or, if ``strict``, writing into) the column."""
    try:
        scalar = scalar_like(value, arr.type)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{argument} {value!r} is not a valid value", field=argument
        ) from exc
    if strict and scalar.type != arr.type:
        raise InvalidInputError(
            f"{argument} {value!r} does not fit the column type {arr.type}", field=argument
        )
    return scalar


def _outside(arr: pa.Array, lo: Any, hi: Any) -> np.ndarray[Any, np.dtype[np.bool_]]:
    outside = np.zeros(len(arr), dtype=np.bool_)
    for bound, compare, argument in ((lo, pc.less, "min"), (hi, pc.greater, "max")):
        if bound is not None:
            try:
                hit = pc.fill_null(compare(arr, _scalar(bound, arr, argument)), False)
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as exc:
                raise InvalidInputError(
                    f"{argument} {bound!r} does not compare with column type {arr.type}",
                    field=argument,
                ) from exc
            outside |= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=np.bool_)
    return outside


def _done(
    before: pa.Table,
    after: pa.Table,
    name: str,
    params: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> Cleaned:
    return Cleaned(
        after, CleaningStep(name, params, before.num_rows, after.num_rows, details or {})
    )
