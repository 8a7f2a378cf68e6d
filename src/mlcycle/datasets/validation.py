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

from collections.abc import Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets._checks import BatchView, _Custom, checker_for, jsonable_row
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
    load_rules,
)
from mlcycle.datasets.reading import DEFAULT_BATCH_ROWS, BatchStream, DataLike, open_batches
from mlcycle.entities.validation import RuleResult, ValidationReport
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
