"""Declarative validation rules (re-exported by :mod:`mlcycle.datasets.validation`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

from mlcycle.datasets.schema import LOGICAL_TYPES, is_known_type_name
from mlcycle.errors import InvalidInputError

Bound = int | float | str | dt.date | dt.datetime | None


def _need_column(kind: str, column: object) -> None:
    if not isinstance(column, str) or not column:
        raise InvalidInputError(f"{kind}: column must be a non-empty string", field="column")


def _need_order(kind: str, lo: object, hi: object) -> None:
    try:
        wrong = lo is not None and hi is not None and lo > hi  # type: ignore[operator]
    except TypeError:
        wrong = False  # e.g. a date and ISO text: the column's type decides at evaluation
    if wrong:
        raise InvalidInputError(f"{kind}: min {lo!r} is greater than max {hi!r}", field="min")


class _Rule:
    kind: ClassVar[str]

    def describe(self) -> str:
        """E.g. ``not_null(age, max_share=0.01)``: the kind, then the non-default arguments."""
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "column":
                parts.append(str(value))
            elif f.name == "check":
                parts.append(getattr(value, "__name__", "check"))
            elif value != f.default and not (f.name == "values" and not value):
                parts.append(f"{f.name}={value!r}")
        return f"{self.kind}({', '.join(parts)})"


@dataclass(frozen=True)
class ColumnPresent(_Rule):
    """The column exists."""

    column: str
    kind: ClassVar[str] = "column_present"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)


@dataclass(frozen=True)
class Dtype(_Rule):
    """The column has a logical type (``integer``, ``numeric``, ...) or an Arrow type."""

    column: str
    type: str
    kind: ClassVar[str] = "dtype"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)
        if not isinstance(self.type, str) or not is_known_type_name(self.type):
            raise InvalidInputError(
                f"dtype: unknown type {self.type!r}; use one of {', '.join(LOGICAL_TYPES)} "
                "or an Arrow type name such as int64",
                field="type",
            )


@dataclass(frozen=True)
class NotNull(_Rule):
    """At most ``max_share`` of the rows are missing (null, or NaN in float columns)."""

    column: str
    max_share: float = 0.0
    kind: ClassVar[str] = "not_null"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)
        share = self.max_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise InvalidInputError(
                f"not_null: max_share must be a number in [0, 1], got {share!r}",
                field="max_share",
            )


@dataclass(frozen=True)
class InRange(_Rule):
    """Non-missing values lie in ``[min, max]`` (inclusive; ``None`` leaves a side open)."""

    column: str
    min: Bound = None
    max: Bound = None
    kind: ClassVar[str] = "in_range"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)
        if self.min is None and self.max is None:
            raise InvalidInputError("in_range: give min, max or both", field="min")
        _need_order(self.kind, self.min, self.max)


@dataclass(frozen=True)
class AllowedValues(_Rule):
    """Non-missing values are among ``values``."""

    column: str
    values: Sequence[Any] = field(default=())  # stored as a tuple
    kind: ClassVar[str] = "allowed_values"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)
        values: object = self.values  # callers may pass anything
        if isinstance(values, str) or not isinstance(values, tuple | list | set):
            raise InvalidInputError("allowed_values: values must be a list", field="values")
        if not self.values:
            raise InvalidInputError("allowed_values: values must not be empty", field="values")
        object.__setattr__(self, "values", tuple(self.values))


@dataclass(frozen=True)
class Unique(_Rule):
    """No non-missing value occurs twice (keeps one entry per distinct value in memory)."""

    column: str
    kind: ClassVar[str] = "unique"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)


@dataclass(frozen=True)
class MatchesRegex(_Rule):
    """Every non-missing string matches ``pattern`` as a whole (like ``re.fullmatch``)."""

    column: str
    pattern: str
    kind: ClassVar[str] = "matches_regex"

    def __post_init__(self) -> None:
        _need_column(self.kind, self.column)
        if not isinstance(self.pattern, str):
            raise InvalidInputError("matches_regex: pattern must be a string", field="pattern")
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise InvalidInputError(
                f"matches_regex: invalid pattern {self.pattern!r}: {exc}", field="pattern"
            ) from exc


@dataclass(frozen=True)
class RowCount(_Rule):
    """The number of rows lies in ``[min, max]``."""

    min: int | None = None
    max: int | None = None
    kind: ClassVar[str] = "row_count"

    def __post_init__(self) -> None:
        for name in ("min", "max"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise InvalidInputError(
                    f"row_count: {name} must be an integer >= 0, got {value!r}", field=name
                )
        if self.min is None and self.max is None:
            raise InvalidInputError("row_count: give min, max or both", field="min")
        _need_order(self.kind, self.min, self.max)


@dataclass(frozen=True)
class Custom(_Rule):
    """A Python check (not loadable from YAML).

    ``check`` receives each batch, as a pandas DataFrame (``on="pandas"``) or a pyarrow
    RecordBatch (``on="arrow"``), and returns a boolean mask of the rows that pass, or one
    bool for the whole batch. With ``whole_table=True`` it is called once with all rows
    (materialised in memory), for checks on aggregates such as a mean.
    """

    name: str
    check: Callable[[Any], Any]
    on: Literal["pandas", "arrow"] = "pandas"
    whole_table: bool = False
    kind: ClassVar[str] = "custom"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError("custom: name must be a non-empty string", field="name")
        if not callable(self.check):
            raise InvalidInputError(f"custom {self.name}: check must be callable", field="check")
        if self.on not in ("pandas", "arrow"):
            raise InvalidInputError(
                f"custom {self.name}: on must be 'pandas' or 'arrow', got {self.on!r}", field="on"
            )

    def describe(self) -> str:
        return f"custom({self.name})"


Rule = (
    ColumnPresent
    | Dtype
    | NotNull
    | InRange
    | AllowedValues
    | Unique
    | MatchesRegex
    | RowCount
    | Custom
)
# Rules that YAML can name (Custom needs Python code).
YAML_RULES: dict[str, type[_Rule]] = {
    cls.kind: cls
    for cls in (
        ColumnPresent,
        Dtype,
        NotNull,
        InRange,
        AllowedValues,
        Unique,
        MatchesRegex,
        RowCount,
    )
}
