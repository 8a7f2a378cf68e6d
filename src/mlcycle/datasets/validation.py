"""Declarative data expectations, evaluated in one streaming pass.

Rules are small frozen dataclasses built in Python::

    >>> import pandas as pd
    >>> rules = [NotNull("age", max_share=0.01), InRange("age", min=0, max=120), Unique("id")]
    >>> report = validate(pd.DataFrame({"id": [1, 2, 2], "age": [30, 200, None]}), rules)
    >>> report.passed, [r.failing_rows for r in report.results]
    (False, [1, 1, 1])

or loaded from YAML with :func:`load_rules`: a list (optionally under a top-level ``rules``
key) of one-key mappings, rule name to parameters; a bare string stands for ``column``::

    rules:
      - column_present: id
      - dtype: {column: age, type: integer}       # logical type or Arrow name (int64)
      - not_null: {column: age, max_share: 0.01}  # share of null/NaN rows allowed
      - in_range: {column: age, min: 0, max: 120} # inclusive; either side optional
      - allowed_values: {column: country, values: [DE, FR, IT]}
      - unique: id
      - matches_regex: {column: email, pattern: '[^@]+@[^@]+'}  # whole value must match
      - row_count: {min: 1000, max: 1000000}

Missing values are only judged by ``not_null``: the value rules (range, allowed values,
regex, unique) skip them. A rule on a missing column fails (it does not raise). ``Custom``
rules run Python code on each batch (or on the whole table) and exist in Python only.

Memory: every rule works batch by batch except ``Unique``, which keeps the column's values,
and ``Custom(whole_table=True)``, which materialises the table. Example rows found by
``Unique`` are fetched with a second pass over the data.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets import _html
from mlcycle.datasets._checks import BatchView, _Custom, checker_for, jsonable_row
from mlcycle.datasets._rules import (
    YAML_RULES,
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
from mlcycle.datasets.reading import DEFAULT_BATCH_ROWS, BatchStream, DataLike, open_batches
from mlcycle.errors import InvalidInputError

__all__ = [
    "AllowedValues",
    "ColumnPresent",
    "Custom",
    "Dtype",
    "InRange",
    "MatchesRegex",
    "NotNull",
    "RowCount",
    "Rule",
    "RuleResult",
    "Unique",
    "ValidationReport",
    "load_rules",
    "validate",
]


@dataclass(frozen=True)
class RuleResult:
    """How one rule fared; ``failing_rows`` is None for rules not about rows."""

    rule: str
    kind: str
    column: str | None
    passed: bool
    message: str
    failing_rows: int | None = None
    example_rows: tuple[int, ...] = ()  # 0-based row numbers of the examples
    examples: tuple[dict[str, Any], ...] = ()  # up to 5 failing rows, as JSON-ready dicts


@dataclass(frozen=True)
class ValidationReport:
    num_rows: int
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "num_rows": self.num_rows,
            "passed": self.passed,
            "results": [
                {
                    **dataclasses.asdict(r),
                    "example_rows": list(r.example_rows),
                    "examples": list(r.examples),
                }
                for r in self.results
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        try:
            results = tuple(
                RuleResult(
                    rule=str(r["rule"]),
                    kind=str(r["kind"]),
                    column=r.get("column"),
                    passed=bool(r["passed"]),
                    message=str(r["message"]),
                    failing_rows=r.get("failing_rows"),
                    example_rows=tuple(int(i) for i in r.get("example_rows", ())),
                    examples=tuple(dict(e) for e in r.get("examples", ())),
                )
                for r in data["results"]
            )
            return cls(num_rows=int(data["num_rows"]), results=results)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a validation report: {exc!r}", field="data") from exc

    def _repr_html_(self) -> str:
        rows = []
        for r in self.results:
            mark = (
                "<span style='color:#080'>✔</span>"
                if r.passed
                else ("<span style='color:#c00'>✘</span>")
            )
            example = _html.fmt(r.examples[0]) if r.examples else ""
            rows.append(
                [mark, _html.fmt(r.rule), _html.fmt(r.failing_rows), _html.fmt(r.message), example]
            )
        verdict = "passed" if self.passed else f"{len(self.failures)} rule(s) failed"
        caption = f"Validation of {self.num_rows:,} rows: {verdict}"
        return _html.table(caption, ["", "rule", "failing rows", "detail", "example"], rows)


def validate(
    data: DataLike, rules: Sequence[Rule], *, batch_rows: int = DEFAULT_BATCH_ROWS
) -> ValidationReport:
    """Evaluate ``rules`` over ``data`` (DataFrame, Table or Parquet/CSV path) batch by batch.

    >>> import pyarrow as pa
    >>> validate(pa.table({"x": [1, 5]}), [InRange("x", max=3)]).results[0].example_rows
    (1,)
    """
    given: object = rules  # guard against a single rule or a YAML string passed by mistake
    if isinstance(given, Rule | str | bytes) or not isinstance(given, Sequence):
        raise InvalidInputError("rules must be a list of rules (see load_rules)", field="rules")
    stream = open_batches(data, batch_rows=batch_rows)
    checkers = [checker_for(rule, stream.schema) for rule in rules]
    offset = 0
    for batch in stream:
        view = BatchView(batch, offset)
        for checker in checkers:
            checker.update(view)
        offset += batch.num_rows
    whole = [c for c in checkers if isinstance(c.rule, Custom) and c.rule.whole_table]
    if whole:
        table = stream.read_all()
        for checker in whole:
            assert isinstance(checker, _Custom)
            checker.run_whole(table)
    outcomes = [checker.finish(offset) for checker in checkers]
    wanted = sorted({row for o in outcomes for row, values in o.examples if values is None})
    fetched = _fetch_rows(stream, wanted) if wanted else {}
    results = []
    for rule, outcome in zip(rules, outcomes, strict=True):
        examples = [
            (row, values if values is not None else fetched[row])
            for row, values in outcome.examples
        ]
        results.append(
            RuleResult(
                rule=rule.describe(),
                kind=rule.kind,
                column=getattr(rule, "column", None),
                passed=outcome.passed,
                message=outcome.message,
                failing_rows=outcome.failing_rows,
                example_rows=tuple(row for row, _ in examples),
                examples=tuple(values for _, values in examples),
            )
        )
    return ValidationReport(num_rows=offset, results=tuple(results))


def _fetch_rows(stream: BatchStream, rows: list[int]) -> dict[int, dict[str, Any]]:
    """Second pass: the values of the given (sorted) row numbers."""
    found: dict[int, dict[str, Any]] = {}
    offset = 0
    for batch in stream:
        inside = [r - offset for r in rows if offset <= r < offset + batch.num_rows]
        if inside:
            for r, values in zip(inside, batch.take(pa.array(inside)).to_pylist(), strict=True):
                found[r + offset] = jsonable_row(values)
        offset += batch.num_rows
        if offset > rows[-1]:
            break
    return found


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
