"""Columns ready to compare: finite numbers as a float64 array, or categories with counts;
and :class:`ReferenceProfile`, a reference's columns prepared once and compared many times.

Inputs are pandas DataFrames, pyarrow Tables or RecordBatches, or dicts of 1-D arrays.
Missing values, NaN and +/-inf are dropped per column. A column's kind (numeric or
categorical) is the reference's: floats are numeric, integers too unless they hold at most
10 distinct values; strings, booleans and pandas categoricals are categorical.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"x": [0.5, 1.5, None], "c": ["a", "b", "a"]})
    >>> profile = ReferenceProfile.from_frame(frame)
    >>> profile["x"].kind.value, profile["x"].size, profile["c"].counts
    ('numeric', 2, {'a': 2, 'b': 1})
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from mlcycle.errors import InvalidInputError
from mlcycle.monitoring.methods import ColumnKind

Floats = npt.NDArray[np.float64]

#: Integer columns with at most this many distinct reference values are categorical.
INTEGER_CATEGORIES = 10
#: Distinct counts are exact up to this (the largest limit a rule needs), capped above it.
DISTINCT_CAP = 20

# Value families: what a column holds, for kinds and for type checks between two samples.
NUMBER, BOOL, STRING, EMPTY, UNSUPPORTED = "number", "bool", "string", "empty", "unsupported"


@dataclass(frozen=True, kw_only=True, eq=False)
class ColumnSample:
    """One column of one sample, ready to compare.

    ``values`` (numeric kind) holds the finite values as float64; ``counts`` (categorical
    kind) maps each non-missing value to its count. ``rows`` counts every row, missing
    ones included; ``family`` is ``number``, ``bool``, ``string``, ``empty`` (no value at
    all) or ``unsupported``; ``dtype`` names the stored type for messages.
    """

    name: str
    family: str
    dtype: str
    rows: int
    kind: ColumnKind | None = None
    values: Floats | None = None
    counts: Mapping[Any, int] | None = None
    integer: bool = False

    @property
    def size(self) -> int:
        """How many values are compared (missing values dropped)."""
        if self.values is not None:
            return int(self.values.size)
        return sum(self.counts.values()) if self.counts is not None else 0

    @cached_property
    def lo(self) -> float:
        return float(self.numbers.min())

    @cached_property
    def hi(self) -> float:
        return float(self.numbers.max())

    @cached_property
    def std(self) -> float:
        """The population standard deviation (``ddof=0``)."""
        return float(np.std(self.numbers))

    @cached_property
    def distinct(self) -> int:
        """The number of distinct values, exact up to 20 (21 means "more than 20")."""
        if self.counts is not None:
            return min(len(self.counts), DISTINCT_CAP + 1)
        return distinct_upto(self.numbers, DISTINCT_CAP)

    @property
    def numbers(self) -> Floats:
        assert self.values is not None, f"column {self.name!r} is not numeric"
        return self.values

    def prepare(self) -> ColumnSample:
        """Compute the statistics every comparison of a numeric column needs; returns self."""
        if self.values is not None and self.values.size:
            _ = self.lo, self.hi, self.std, self.distinct
        return self


class ReferenceProfile:
    """A reference's columns, extracted and summarised once, to compare with many windows.

    Build it with :meth:`from_frame` and pass it to :func:`mlcycle.monitoring.drift` in
    place of the reference data; numeric columns keep their finite values (the exact tests
    need them) with their range, standard deviation and distinct count computed once.

        >>> import pandas as pd
        >>> from mlcycle.monitoring import drift
        >>> ref = ReferenceProfile.from_frame(pd.DataFrame({"x": [float(i) for i in range(50)]}))
        >>> drift(ref, pd.DataFrame({"x": [float(i) for i in range(25, 75)]})).drifted
        True
    """

    def __init__(self, columns: Mapping[str, ColumnSample], *, rows: int) -> None:
        self.columns: dict[str, ColumnSample] = dict(columns)
        self.rows = rows

    @classmethod
    def from_frame(cls, data: object, columns: Sequence[str] | None = None) -> ReferenceProfile:
        """Profile ``data`` (a DataFrame, an Arrow table or a dict of arrays).

        ``columns`` limits the profile to those names (missing ones are left out).
        Raises InvalidInputError (field ``reference``) for other kinds of input.
        """
        frame = open_frame(data, field="reference")
        names = frame.names if columns is None else [n for n in columns if n in frame.names]
        samples = {name: reference_sample(frame.raw(name), name).prepare() for name in names}
        return cls(samples, rows=frame.rows)

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, name: str) -> ColumnSample:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __repr__(self) -> str:
        return f"ReferenceProfile(rows={self.rows}, columns={self.names})"


# --- reading columns ------------------------------------------------------------------


@dataclass(frozen=True)
class RawColumn:
    """A column as stored, with what its type says; values are read on demand."""

    data: Any  # a pandas Series or a pyarrow ChunkedArray
    family: str
    dtype: str
    integer: bool
    categorical_dtype: bool  # pandas category / Arrow dictionary: always categorical

    @property
    def rows(self) -> int:
        return len(self.data)

    def numbers(self) -> Floats:
        """The finite values as float64 (a view when nothing needs dropping)."""
        values = _as_float_array(self.data)
        finite = np.isfinite(values)
        return values if finite.all() else values[finite]

    def counts(self) -> dict[Any, int]:
        """Each non-missing (and, for numbers, finite) value with its count."""
        keys, counts = _value_counts(self.data)
        out: dict[Any, int] = {}
        for key, count in zip(keys, counts, strict=True):
            if count <= 0 or key is None:
                continue
            if isinstance(key, float) and not math.isfinite(key):
                continue
            out[key] = out.get(key, 0) + int(count)
        return out


class Frame:
    """Column access to a DataFrame, an Arrow table or record batch, or a dict of arrays."""

    def __init__(self, names: list[str], rows: int, columns: Mapping[str, Any]) -> None:
        self.names = names
        self.rows = rows
        self._columns = columns

    def raw(self, name: str) -> RawColumn:
        data = self._columns[name]
        pa = sys.modules.get("pyarrow")
        if pa is not None and isinstance(data, pa.ChunkedArray | pa.Array):
            return _arrow_column(data)
        return _pandas_column(data)


def open_frame(data: object, *, field: str) -> Frame:
    """``data`` as a :class:`Frame`; an InvalidInputError naming ``field`` otherwise."""
    pd = sys.modules.get("pandas")
    pa = sys.modules.get("pyarrow")
    if pd is not None and isinstance(data, pd.DataFrame):
        names = [str(c) for c in data.columns]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"{field}: column names must be unique", field=field)
        columns = {str(c): data.iloc[:, i] for i, c in enumerate(data.columns)}
        return Frame(names, len(data), columns)
    if pa is not None and isinstance(data, pa.Table | pa.RecordBatch):
        names = [str(c) for c in data.column_names]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"{field}: column names must be unique", field=field)
        return Frame(names, data.num_rows, {n: data.column(i) for i, n in enumerate(names)})
    if isinstance(data, Mapping):
        return _mapping_frame(data, field)
    raise InvalidInputError(
        f"{field}: expected a pandas DataFrame, a pyarrow Table or a dict of arrays, "
        f"not {type(data).__name__}",
        field=field,
    )


def _mapping_frame(data: Mapping[Any, Any], field: str) -> Frame:
    import pandas as pd  # loaded on first use: importing mlcycle.monitoring stays cheap

    columns: dict[str, Any] = {}
    for key, value in data.items():
        array = np.asarray(value)
        if array.ndim != 1:
            raise InvalidInputError(
                f"{field}: column {key!r} must be one-dimensional, not of shape {array.shape}",
                field=field,
            )
        columns[str(key)] = pd.Series(array, copy=False)
    rows = max((len(c) for c in columns.values()), default=0)
    return Frame(list(columns), rows, columns)


def reference_sample(raw: RawColumn, name: str) -> ColumnSample:
    """A reference column, its kind decided from its type and values."""
    base: dict[str, Any] = {
        "name": name,
        "family": raw.family,
        "dtype": raw.dtype,
        "rows": raw.rows,
        "integer": raw.integer,
    }
    if raw.family in (UNSUPPORTED, EMPTY):
        return ColumnSample(**base)
    if raw.family == NUMBER and not raw.categorical_dtype:
        values = raw.numbers()
        if not raw.integer or distinct_upto(values, INTEGER_CATEGORIES) > INTEGER_CATEGORIES:
            return ColumnSample(**base, kind=ColumnKind.NUMERIC, values=values)
    return ColumnSample(**base, kind=ColumnKind.CATEGORICAL, counts=raw.counts())


def current_sample(raw: RawColumn, reference: ColumnSample) -> ColumnSample | str:
    """The current column read the reference's way, or why it cannot be compared."""
    if raw.family == UNSUPPORTED:
        return f"values of type {raw.dtype} cannot be compared"
    base: dict[str, Any] = {
        "name": reference.name,
        "family": raw.family,
        "dtype": raw.dtype,
        "rows": raw.rows,
        "integer": raw.integer,
        "kind": reference.kind,
    }
    if raw.family == EMPTY:
        if reference.kind is ColumnKind.NUMERIC:
            return ColumnSample(**base, values=np.empty(0))
        return ColumnSample(**base, counts={})
    if raw.family != reference.family:
        return (
            f"the reference holds {reference.family} values ({reference.dtype}), "
            f"the current data {raw.family} values ({raw.dtype})"
        )
    if reference.kind is ColumnKind.NUMERIC:
        return ColumnSample(**base, values=raw.numbers())
    return ColumnSample(**base, counts=raw.counts())


def distinct_upto(values: Floats, cap: int) -> int:
    """The number of distinct values when at most ``cap``, else ``cap + 1``."""
    if values.size > 4096 and np.unique(values[:4096]).size > cap:
        return cap + 1
    pd = sys.modules.get("pandas")
    unique = pd.unique(values) if pd is not None and values.size > 50_000 else np.unique(values)
    return min(int(unique.size), cap + 1)


def _pandas_column(series: Any) -> RawColumn:
    import pandas as pd  # loaded on first use: importing mlcycle.monitoring stays cheap

    dtype = series.dtype
    name = str(dtype)
    types = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        family = _family_of_inferred(types.infer_dtype(dtype.categories, skipna=True))
        return RawColumn(series, family, name, False, True)
    if types.is_bool_dtype(dtype):
        return RawColumn(series, BOOL, name, False, False)
    if types.is_integer_dtype(dtype):
        return RawColumn(series, NUMBER, name, True, False)
    if types.is_float_dtype(dtype):
        return RawColumn(series, NUMBER, name, False, False)
    if types.is_string_dtype(dtype) or types.is_object_dtype(dtype):
        family = _family_of_inferred(types.infer_dtype(series, skipna=True))
        return RawColumn(series, family, name, False, family != NUMBER)
    return RawColumn(series, UNSUPPORTED, name, False, False)


def _family_of_inferred(inferred: str) -> str:
    if inferred == "empty":
        return EMPTY
    if inferred in ("string", "unicode"):
        return STRING
    if inferred == "boolean":
        return BOOL
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return NUMBER
    return UNSUPPORTED


def _arrow_column(data: Any) -> RawColumn:
    import pyarrow as pa

    t = pa.types
    kind = data.type
    name = str(kind)
    if t.is_dictionary(kind):
        family = _arrow_family(kind.value_type)
        return RawColumn(data, family, name, False, True)
    family = _arrow_family(kind)
    return RawColumn(data, family, name, t.is_integer(kind), False)


def _arrow_family(kind: Any) -> str:
    import pyarrow as pa

    t = pa.types
    if t.is_null(kind):
        return EMPTY
    if t.is_boolean(kind):
        return BOOL
    if t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind):
        return NUMBER
    is_view = getattr(t, "is_string_view", None)
    if t.is_string(kind) or t.is_large_string(kind) or (is_view is not None and is_view(kind)):
        return STRING
    return UNSUPPORTED


def _as_float_array(data: Any) -> Floats:
    pa = sys.modules.get("pyarrow")
    if pa is not None and isinstance(data, pa.ChunkedArray | pa.Array):
        import pyarrow.compute as pc

        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        floats = pc.cast(data, pa.float64())
        if isinstance(floats, pa.ChunkedArray):
            floats = floats.combine_chunks() if floats.num_chunks != 1 else floats.chunk(0)
        array: Floats = floats.to_numpy(zero_copy_only=False)
        if floats.null_count:
            array = np.where(np.asarray(floats.is_valid()), array, np.nan)
        return array
    import pandas as pd

    if isinstance(data.dtype, np.dtype) and data.dtype == np.float64:
        out: Floats = data.to_numpy()
        return out
    converted = pd.to_numeric(data, errors="coerce")
    result: Floats = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    return result


def _value_counts(data: Any) -> tuple[Iterable[Any], Iterable[int]]:
    pa = sys.modules.get("pyarrow")
    if pa is not None and isinstance(data, pa.ChunkedArray | pa.Array):
        import pyarrow.compute as pc

        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        counted = pc.value_counts(data)
        return counted.field("values").to_pylist(), counted.field("counts").to_pylist()
    counted = data.value_counts(dropna=True, sort=False)
    return counted.index.tolist(), counted.to_numpy().tolist()
