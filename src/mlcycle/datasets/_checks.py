"""Streaming evaluation of validation rules (see :mod:`mlcycle.datasets.validation`).

One checker per rule sees every batch once (``update``) and then reports (``finish``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets._rules import (
    AllowedValues,
    ColumnPresent,
    Custom,
    Dtype,
    InRange,
    MatchesRegex,
    NotNull,
    RowCount,
    Rule,
    Unique,
)
from mlcycle.datasets.schema import is_string_type, logical_type, type_matches
from mlcycle.errors import InvalidInputError

MAX_EXAMPLES = 5
Mask = npt.NDArray[np.bool_]


@dataclass
class Outcome:
    passed: bool
    message: str
    failing_rows: int | None = None
    # (row number, row values); values None means "fetch them in a second pass".
    examples: list[tuple[int, dict[str, Any] | None]] = field(default_factory=list)


class BatchView:
    """A batch plus its pandas form, converted at most once for all custom rules."""

    def __init__(self, batch: pa.RecordBatch, offset: int) -> None:
        self.batch = batch
        self.offset = offset
        self._pandas: pd.DataFrame | None = None

    @property
    def pandas(self) -> pd.DataFrame:
        if self._pandas is None:
            self._pandas = self.batch.to_pandas()
        return self._pandas


def jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    """Row values as JSON types: dates become ISO strings, decimals and bytes strings."""

    def convert(v: Any) -> Any:
        if v is None or isinstance(v, bool | int | float | str):
            return v
        if isinstance(v, dt.date | dt.datetime | dt.time):
            return v.isoformat()
        if isinstance(v, decimal.Decimal | bytes):
            return str(v)
        if isinstance(v, list | tuple):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {str(k): convert(x) for k, x in v.items()}
        return str(v)

    return {k: convert(v) for k, v in row.items()}


def examples_from(
    batch: pa.RecordBatch, failing: Mask, offset: int, need: int
) -> list[tuple[int, dict[str, Any] | None]]:
    positions = np.flatnonzero(failing)[:need]
    if len(positions) == 0:
        return []
    rows = batch.take(pa.array(positions)).to_pylist()
    return [(offset + int(p), jsonable_row(r)) for p, r in zip(positions, rows, strict=True)]


class Checker:
    def __init__(self, rule: Rule, schema: pa.Schema) -> None:
        self.rule = rule
        self.schema = schema
        column = getattr(rule, "column", None)
        self.missing_column = column is not None and column not in schema.names
        self.failing = 0
        self.examples: list[tuple[int, dict[str, Any] | None]] = []
        self.error: str | None = None

    def update(self, view: BatchView) -> None:
        if self.missing_column or self.error is not None:
            return
        try:
            failing = self.failing_mask(view)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            self.error = f"cannot evaluate: {exc}"
            return
        if failing is not None:
            self.record(view.batch, failing, view.offset)

    def record(
        self, batch: pa.RecordBatch, failing: Mask, offset: int, *, examples: bool = True
    ) -> None:
        count = int(np.count_nonzero(failing))
        if examples and count and len(self.examples) < MAX_EXAMPLES:
            need = MAX_EXAMPLES - len(self.examples)
            self.examples += examples_from(batch, failing, offset, need)
        self.failing += count

    def failing_mask(self, view: BatchView) -> Mask | None:
        """Rows of the batch that break the rule (None: the rule is not row-based)."""
        return None

    def finish(self, num_rows: int) -> Outcome:
        column = getattr(self.rule, "column", None)
        if self.missing_column:
            return Outcome(False, f"column '{column}' is missing")
        if self.error is not None:
            return Outcome(False, self.error)
        passed = self.failing <= self.allowed(num_rows)
        share = self.failing / num_rows if num_rows else 0.0
        message = f"{self.failing:,} of {num_rows:,} rows ({share:.2%}) {self.verb()}"
        return Outcome(passed, message, self.failing, self.examples)

    def allowed(self, num_rows: int) -> float:
        return 0

    def verb(self) -> str:
        return "fail"

    def column(self, view: BatchView) -> pa.Array:
        arr = view.batch.column(getattr(self.rule, "column"))  # noqa: B009
        return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def _fill(mask: pa.Array) -> Mask:
    """Arrow boolean mask -> NumPy, nulls counting as "not failing"."""
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def _present(arr: pa.Array) -> Mask:
    """Rows with a value: not null and, in float columns, not NaN."""
    return ~_fill(pc.is_null(arr, nan_is_null=True))


class _Present(Checker):
    def finish(self, num_rows: int) -> Outcome:
        if self.missing_column:
            return Outcome(False, f"column '{self.rule.column}' is missing")  # type: ignore[union-attr]
        return Outcome(True, "column is present")


class _Dtype(Checker):
    def finish(self, num_rows: int) -> Outcome:
        assert isinstance(self.rule, Dtype)
        if self.missing_column:
            return Outcome(False, f"column '{self.rule.column}' is missing")
        actual = self.schema.field(self.rule.column).type
        ok = type_matches(actual, self.rule.type)
        found = f"{logical_type(actual)} ({actual})"
        return Outcome(ok, f"type is {found}" + ("" if ok else f", expected {self.rule.type}"))


class _NotNull(Checker):
    def failing_mask(self, view: BatchView) -> Mask:
        return _fill(pc.is_null(self.column(view), nan_is_null=True))

    def allowed(self, num_rows: int) -> float:
        assert isinstance(self.rule, NotNull)
        return self.rule.max_share * num_rows

    def verb(self) -> str:
        assert isinstance(self.rule, NotNull)
        return f"are missing (at most {self.rule.max_share:.2%} allowed)"


def scalar_like(value: Any, arrow_type: pa.DataType) -> pa.Scalar:
    """``value`` as a scalar of the column's type when it converts (ISO text or a date to a
    timestamp, 3 to 3.0); else as is, for Arrow to compare in a common type (2.5 against
    integers) or to refuse. Numbers and text are never converted into each other."""
    scalar = pa.scalar(value)
    if is_string_type(scalar.type) != is_string_type(arrow_type) and not (
        pa.types.is_temporal(arrow_type)
    ):
        return scalar
    try:
        return scalar.cast(arrow_type)
    except (pa.ArrowException, TypeError, ValueError):
        return scalar


class _InRange(Checker):
    def failing_mask(self, view: BatchView) -> Mask:
        assert isinstance(self.rule, InRange)
        arr = self.column(view)
        failing = np.zeros(len(arr), dtype=np.bool_)
        if self.rule.min is not None:
            failing |= _fill(pc.less(arr, scalar_like(self.rule.min, arr.type)))
        if self.rule.max is not None:
            failing |= _fill(pc.greater(arr, scalar_like(self.rule.max, arr.type)))
        return failing

    def verb(self) -> str:
        assert isinstance(self.rule, InRange)
        return f"are outside [{self.rule.min}, {self.rule.max}]"


class _Allowed(Checker):
    def failing_mask(self, view: BatchView) -> Mask:
        assert isinstance(self.rule, AllowedValues)
        arr = self.column(view)
        allowed = pa.array([scalar_like(v, arr.type) for v in self.rule.values])
        return ~_fill(pc.is_in(arr, value_set=allowed)) & _present(arr)

    def verb(self) -> str:
        return "have values outside the allowed set"


class _Regex(Checker):
    def failing_mask(self, view: BatchView) -> Mask:
        assert isinstance(self.rule, MatchesRegex)
        arr = self.column(view)
        if not is_string_type(arr.type):
            raise TypeError(f"column '{self.rule.column}' is {arr.type}, not a string column")
        try:
            matches = _fill(pc.match_substring_regex(arr, pattern=f"^(?:{self.rule.pattern})$"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # RE2 lacks some Python features (look-arounds, back-references): use re.
            regex = re.compile(self.rule.pattern)
            matches = np.array(
                [v is None or regex.fullmatch(v) is not None for v in arr.to_pylist()],
                dtype=np.bool_,
            )
        return ~matches & _present(arr)

    def verb(self) -> str:
        return "do not match the pattern"


class _RowCount(Checker):
    def finish(self, num_rows: int) -> Outcome:
        assert isinstance(self.rule, RowCount)
        lo, hi = self.rule.min, self.rule.max
        ok = (lo is None or num_rows >= lo) and (hi is None or num_rows <= hi)
        return Outcome(ok, f"{num_rows:,} rows, expected [{lo}, {hi}]")


class _Unique(Checker):
    """Keeps every non-missing value and its row number; duplicates are found at the end."""

    def __init__(self, rule: Rule, schema: pa.Schema) -> None:
        super().__init__(rule, schema)
        self.values: list[pa.Array] = []
        self.rows: list[npt.NDArray[np.int64]] = []

    def failing_mask(self, view: BatchView) -> None:
        arr = self.column(view)
        valid = _present(arr)
        self.values.append(arr.filter(pa.array(valid)))
        self.rows.append(np.flatnonzero(valid).astype(np.int64) + view.offset)
        return None

    def finish(self, num_rows: int) -> Outcome:
        if self.missing_column or self.error is not None:
            return super().finish(num_rows)
        values = pa.chunked_array(self.values, type=self.values[0].type if self.values else None)
        present = len(values)
        dupes = present - int(pc.count_distinct(values).as_py()) if present else 0
        if dupes:
            repeated = pd.Series(values.to_pandas()).duplicated(keep="first").to_numpy()
            rows = np.concatenate(self.rows)[repeated][:MAX_EXAMPLES]
            self.examples = [(int(r), None) for r in rows]
        self.failing = dupes
        return super().finish(num_rows)

    def verb(self) -> str:
        return "repeat a value of an earlier row"


class _Custom(Checker):
    def update(self, view: BatchView) -> None:
        assert isinstance(self.rule, Custom)
        if not self.rule.whole_table and self.error is None:
            data = view.pandas if self.rule.on == "pandas" else view.batch
            self._run(data, view.batch, view.offset)

    def run_whole(self, table: pa.Table) -> None:
        """Evaluate a ``whole_table`` check on all rows at once."""
        assert isinstance(self.rule, Custom)
        batch = table.combine_chunks().to_batches()[0] if table.num_rows else None
        if batch is not None:
            self._run(batch.to_pandas() if self.rule.on == "pandas" else batch, batch, 0)

    def _run(self, data: Any, batch: pa.RecordBatch, offset: int) -> None:
        assert isinstance(self.rule, Custom)
        try:
            result = self.rule.check(data)
        except Exception as exc:  # the user's code failed: report it, keep validating
            self.error = f"check raised {type(exc).__name__}: {exc}"
            return
        # A single bool says nothing about particular rows: count them, show no examples.
        single = isinstance(result, bool | np.bool_)
        passing = as_mask(result, batch.num_rows, self.rule.name)
        self.record(batch, ~passing, offset, examples=not single)


def as_mask(result: Any, rows: int, name: str) -> Mask:
    """A custom check's result as a "passes" mask; one bool applies to every row."""
    if isinstance(result, bool | np.bool_):
        return np.full(rows, bool(result), dtype=np.bool_)
    if isinstance(result, pa.Array | pa.ChunkedArray):
        result = pc.fill_null(result, False).to_numpy(zero_copy_only=False)
    elif isinstance(result, pd.Series):
        result = result.fillna(False).to_numpy()
    mask = np.asarray(result)
    if mask.dtype == object:
        mask = np.array([bool(v) if v is not None else False for v in mask], dtype=np.bool_)
    if mask.shape != (rows,) or mask.dtype != np.bool_:
        raise InvalidInputError(
            f"custom check '{name}' must return a bool or a boolean mask of {rows} rows, "
            f"got {mask.dtype} with shape {mask.shape}",
            field=name,
        )
    return mask


_CHECKERS: dict[type[Any], type[Checker]] = {
    ColumnPresent: _Present,
    Dtype: _Dtype,
    NotNull: _NotNull,
    InRange: _InRange,
    AllowedValues: _Allowed,
    Unique: _Unique,
    MatchesRegex: _Regex,
    RowCount: _RowCount,
    Custom: _Custom,
}


def checker_for(rule: Rule, schema: pa.Schema) -> Checker:
    try:
        cls = _CHECKERS[type(rule)]
    except KeyError:
        raise InvalidInputError(
            f"not a validation rule: {rule!r} ({type(rule).__name__})", field="rules"
        ) from None
    return cls(rule, schema)
