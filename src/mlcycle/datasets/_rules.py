"""Declarative validation rules and their YAML form (re-exported by
:mod:`mlcycle.datasets.validation` and :mod:`mlcycle.datasets`).

This module imports neither pandas nor pyarrow, so ``import mlcycle.datasets`` stays cheap;
checking an Arrow type name (``Dtype``) loads pyarrow when a rule is built.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

from mlcycle.entities.profiles import LOGICAL_TYPES
from mlcycle.errors import InvalidInputError

Bound = int | float | str | dt.date | dt.datetime | None


def _is_known_type_name(name: str) -> bool:
    # Deferred on purpose: Arrow type names need pyarrow (a quarter of a second to import),
    # which ``import mlcycle.datasets`` must not pay; logical type names do not.
    if name in LOGICAL_TYPES:
        return True
    from mlcycle.datasets.schema import is_known_type_name

    return is_known_type_name(name)


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
        if not isinstance(self.type, str) or not _is_known_type_name(self.type):
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


def rules_to_yaml(rules: Sequence[Rule]) -> str:
    """The YAML text of ``rules`` that :func:`load_rules` reads back as equal rules (how
    rules travel to a server). A :class:`Custom` rule is Python code and has no YAML form:
    InvalidInputError.

    >>> print(rules_to_yaml([Unique("id")]), end="")
    - unique:
        column: id
    """
    import yaml  # type: ignore[import-untyped,unused-ignore]  # only needed here

    items: list[dict[str, dict[str, Any]]] = []
    for rule in rules:
        cls = YAML_RULES.get(getattr(rule, "kind", ""))
        if cls is None or type(rule) is not cls:
            raise InvalidInputError(
                "rule objects are Python and check in-process only; through a server, give "
                "the rules as YAML text or the path of a rules file",
                field="rules",
            )
        params = {
            f.name: list(v) if isinstance(v := getattr(rule, f.name), tuple) else v
            for f in dataclasses.fields(rule)
            if f.init
        }
        items.append({cls.kind: params})
    text: str = yaml.safe_dump(items, sort_keys=False, allow_unicode=True)
    return text


def load_rules(source: str | os.PathLike[str]) -> list[Rule]:
    """Rules from a YAML file (a ``Path``, or a ``str`` ending in ``.yaml``/``.yml``) or text.

    >>> [r.describe() for r in load_rules("- unique: id\\n- not_null: {column: age}")]
    ['unique(id)', 'not_null(age)']
    """
    import yaml  # type: ignore[import-untyped,unused-ignore]  # only needed here

    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
    ):
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read rules file '{source}': {exc}", field="source"
            ) from exc
    elif isinstance(source, str):
        text = source
    else:
        raise InvalidInputError(
            f"rules source must be YAML text or a path, got {type(source).__name__}",
            field="source",
        )
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInputError(f"invalid YAML{where}: {exc}", field="source") from exc
    if data is None or root is None:
        return []
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
        root = root.value[0][1]  # the node of the list, for line numbers
    if not isinstance(data, list):
        raise InvalidInputError(
            "rules YAML must be a list of rules, optionally under a 'rules' key", field="source"
        )
    return [
        _rule_from_yaml(item, node.start_mark.line + 1)
        for item, node in zip(data, root.value, strict=True)
    ]


def _rule_from_yaml(item: object, line: int) -> Rule:
    if not isinstance(item, dict) or len(item) != 1:
        raise InvalidInputError(
            f"line {line}: each rule must be a mapping with one key, the rule name, got {item!r}",
            field="source",
        )
    ((name, params),) = item.items()
    cls = YAML_RULES.get(str(name))
    if cls is None:
        raise InvalidInputError(
            f"line {line}: unknown rule '{name}'; known rules: {', '.join(sorted(YAML_RULES))}",
            field=str(name),
        )
    if isinstance(params, str):
        params = {"column": params}
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInputError(
            f"line {line}: parameters of rule '{name}' must be a mapping", field=str(name)
        )
    known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(map(str, params)) - set(known))
    if unknown:
        raise InvalidInputError(
            f"line {line}: rule '{name}' has no parameter {', '.join(map(repr, unknown))}; "
            f"parameters: {', '.join(known)}",
            field=str(name),
        )
    try:
        return cls(**params)  # type: ignore[return-value]
    except InvalidInputError as exc:
        raise InvalidInputError(f"line {line}: {exc.message}", field=exc.field) from exc
    except TypeError as exc:
        raise InvalidInputError(f"line {line}: rule '{name}': {exc}", field=str(name)) from exc
