"""Every rule kind passes and fails; YAML loading; reports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.validation import (
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
    ValidationReport,
    load_rules,
    validate,
)
from mlcycle.errors import InvalidInputError

PEOPLE = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6],
        "age": [31.0, 45.0, np.nan, 17.0, 230.0, 52.0],
        "country": ["DE", "FR", "DE", "XX", None, "IT"],
        "email": ["a@x.org", "b@y.org", "not-an-email", None, "c@z.org", "d@w.org"],
        "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"] * 2),
    }
)


def _one(rule: Rule, data: Any = PEOPLE, batch_rows: int = 4) -> Any:
    report = validate(data, [rule], batch_rows=batch_rows)
    assert len(report.results) == 1
    return report.results[0]


def test_column_present() -> None:
    assert _one(ColumnPresent("id")).passed
    result = _one(ColumnPresent("salary"))
    assert not result.passed
    assert "salary" in result.message


def test_dtype_logical_and_arrow_names() -> None:
    assert _one(Dtype("id", "integer")).passed
    assert _one(Dtype("id", "numeric")).passed
    assert _one(Dtype("id", "int64")).passed
    assert _one(Dtype("when", "datetime")).passed
    failed = _one(Dtype("age", "integer"))
    assert not failed.passed
    assert "float" in failed.message
    assert not _one(Dtype("id", "int32")).passed


def test_not_null_with_and_without_a_tolerated_share() -> None:
    strict = _one(NotNull("age"))
    assert not strict.passed
    assert strict.failing_rows == 1
    assert strict.example_rows == (2,)
    assert strict.examples[0]["id"] == 3
    assert _one(NotNull("age", max_share=0.2)).passed
    assert _one(NotNull("id")).passed


def test_in_range_is_inclusive_and_skips_missing() -> None:
    result = _one(InRange("age", min=18, max=120))
    assert not result.passed
    assert result.failing_rows == 2
    assert result.example_rows == (3, 4)
    assert [e["age"] for e in result.examples] == [17.0, 230.0]
    assert _one(InRange("age", min=17, max=230)).passed
    assert _one(InRange("age", min=0)).failing_rows == 0


def test_in_range_on_timestamps_accepts_dates_and_iso_text() -> None:
    assert _one(InRange("when", min=dt.date(2024, 1, 1), max="2024-03-01")).passed
    assert _one(InRange("when", max="2024-02-15")).failing_rows == 2


def test_allowed_values() -> None:
    result = _one(AllowedValues("country", ["DE", "FR", "IT"]))
    assert not result.passed
    assert result.failing_rows == 1
    assert result.examples[0]["country"] == "XX"
    assert _one(AllowedValues("country", ("DE", "FR", "IT", "XX"))).passed
    assert _one(AllowedValues("id", [1, 2, 3, 4, 5, 6])).passed


def test_unique_across_batches_fetches_example_rows() -> None:
    df = pd.DataFrame({"k": [1, 2, 3, 1, 5, 2, None, None], "v": list("abcdefgh")})
    result = _one(Unique("k"), df, batch_rows=3)
    assert not result.passed
    assert result.failing_rows == 2
    assert result.example_rows == (3, 5)
    assert [e["v"] for e in result.examples] == ["d", "f"]
    assert _one(Unique("id")).passed


def test_unique_on_strings_from_parquet(tmp_path: Path) -> None:
    path = tmp_path / "u.parquet"
    pq.write_table(pa.table({"s": ["x", "y", "x", "z", "y", "y"]}), path)
    result = _one(Unique("s"), path, batch_rows=2)
    assert result.failing_rows == 3
    assert result.example_rows == (2, 4, 5)


def test_matches_regex_whole_value_and_python_fallback() -> None:
    result = _one(MatchesRegex("email", r"[^@]+@[^@]+\.org"))
    assert not result.passed
    assert result.failing_rows == 1
    assert result.examples[0]["email"] == "not-an-email"
    assert _one(MatchesRegex("email", r"[a-z]@")).failing_rows == 5  # must match fully
    # A look-ahead is not RE2: Python's re takes over.
    assert _one(MatchesRegex("email", r"(?=.*@).*")).failing_rows == 1
    not_text = _one(MatchesRegex("id", r"\d+"))
    assert not not_text.passed
    assert "not a string column" in not_text.message


def test_row_count() -> None:
    assert _one(RowCount(min=1, max=6)).passed
    result = _one(RowCount(min=10))
    assert not result.passed
    assert result.failing_rows is None
    assert not _one(RowCount(max=5)).passed


def test_custom_checks_on_pandas_and_arrow() -> None:
    def adult(df: pd.DataFrame) -> pd.Series:
        return df["age"].isna() | (df["age"] >= 18)

    result = _one(Custom("adult", adult))
    assert not result.passed
    assert result.failing_rows == 1
    assert result.example_rows == (3,)
    assert result.rule == "custom(adult)"

    def arrow_check(batch: pa.RecordBatch) -> Any:
        import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

        return pc.greater(batch.column("id"), 0)

    assert _one(Custom("positive", arrow_check, on="arrow")).passed
    always = _one(Custom("batch bool", lambda df: len(df) < 3))
    assert not always.passed
    assert always.failing_rows == 4
    assert always.examples == ()


def test_custom_whole_table_sees_all_rows() -> None:
    seen: list[int] = []

    def mean_age(df: pd.DataFrame) -> bool:
        seen.append(len(df))
        return bool(df["age"].mean() < 100)

    result = _one(Custom("mean age", mean_age, whole_table=True), batch_rows=2)
    assert seen == [6]
    assert result.passed


def test_custom_errors_fail_the_rule_but_bad_masks_raise() -> None:
    def broken(df: pd.DataFrame) -> bool:
        raise KeyError("nope")

    result = _one(Custom("broken", broken))
    assert not result.passed
    assert "KeyError" in result.message
    with pytest.raises(InvalidInputError, match="boolean mask of 4 rows") as info:
        _one(Custom("short", lambda df: np.ones(2, dtype=bool)))
    assert info.value.field == "short"


def test_rules_on_missing_columns_fail_without_raising() -> None:
    for rule in (NotNull("nope"), InRange("nope", min=0), Unique("nope"), Dtype("nope", "float")):
        result = _one(rule)
        assert not result.passed
        assert "column 'nope' is missing" in result.message


def test_type_mismatch_fails_the_rule() -> None:
    result = _one(InRange("country", min=3))
    assert not result.passed
    assert "cannot evaluate" in result.message
    mismatch = _one(InRange("age", min=5, max="x"))
    assert not mismatch.passed
    assert "cannot evaluate" in mismatch.message
    numbers_for_text = _one(AllowedValues("country", [1, 2]))
    assert not numbers_for_text.passed
    assert "cannot evaluate" in numbers_for_text.message


def test_nan_counts_as_missing_for_value_rules() -> None:
    table = pa.table({"x": pa.array([1.0, float("nan"), 1.0, None, 2.0], from_pandas=False)})
    assert _one(AllowedValues("x", [1.0, 2.0]), table).passed
    assert _one(Unique("x"), table).failing_rows == 1
    assert _one(NotNull("x"), table).failing_rows == 2


def test_report_summary_round_trip_and_html() -> None:
    rules: list[Rule] = [NotNull("age", max_share=0.5), InRange("age", max=100), Unique("id")]
    report = validate(PEOPLE, rules)
    assert not report.passed
    assert [r.kind for r in report.failures] == ["in_range"]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["passed"] is False
    assert ValidationReport.from_dict(data) == report
    html = report._repr_html_()
    assert "in_range(age, max=100)" in html
    assert "1 rule(s) failed" in html
    with pytest.raises(InvalidInputError, match="not a validation report"):
        ValidationReport.from_dict({})
    assert validate(PEOPLE, []).passed


def test_examples_are_json_ready() -> None:
    result = _one(InRange("when", max="2024-01-15"))
    assert result.examples[0]["when"] == "2024-02-01T00:00:00"


def test_bad_rule_arguments() -> None:
    cases: list[tuple[Any, str]] = [
        (lambda: NotNull("age", max_share=1.5), "max_share"),
        (lambda: NotNull("", max_share=0.1), "column"),
        (lambda: InRange("age"), "min"),
        (lambda: InRange("age", min=5, max=1), "min"),
        (lambda: AllowedValues("c", []), "values"),
        (lambda: AllowedValues("c", "abc"), "values"),
        (lambda: MatchesRegex("c", "("), "pattern"),
        (lambda: RowCount(), "min"),
        (lambda: RowCount(min=-1), "min"),
        (lambda: RowCount(min=5, max=2), "min"),
        (lambda: Dtype("c", "bogus"), "type"),
        (lambda: Custom("x", "not callable"), "check"),  # type: ignore[arg-type]
        (lambda: Custom("x", len, on="polars"), "on"),  # type: ignore[arg-type]
        (lambda: Custom("", len), "name"),
    ]
    for make, field in cases:
        with pytest.raises(InvalidInputError) as info:
            make()
        assert info.value.field == field


def test_validate_argument_errors() -> None:
    with pytest.raises(InvalidInputError) as info:
        validate(PEOPLE, NotNull("age"))  # type: ignore[arg-type]
    assert info.value.field == "rules"
    with pytest.raises(InvalidInputError, match="not a validation rule"):
        validate(PEOPLE, ["not_null"])  # type: ignore[list-item]


FULL_YAML = """
rules:
  - column_present: id
  - dtype: {column: age, type: float}
  - not_null: {column: age, max_share: 0.2}
  - in_range: {column: age, min: 0, max: 120}
  - allowed_values: {column: country, values: [DE, FR, IT, XX]}
  - unique: id
  - matches_regex: {column: email, pattern: '[^@]+@[^@]+'}
  - row_count: {min: 1, max: 1000}
"""


def test_load_rules_from_text_and_file(tmp_path: Path) -> None:
    rules = load_rules(FULL_YAML)
    assert [r.kind for r in rules] == [
        "column_present", "dtype", "not_null", "in_range",
        "allowed_values", "unique", "matches_regex", "row_count",
    ]  # fmt: skip
    assert rules[4] == AllowedValues("country", ("DE", "FR", "IT", "XX"))
    report = validate(PEOPLE, rules)
    assert [r.passed for r in report.results] == [True, True, True, False, True, True, False, True]
    path = tmp_path / "rules.yaml"
    path.write_text("- unique: id\n")
    assert load_rules(path) == [Unique("id")]
    assert load_rules(str(path)) == [Unique("id")]
    assert load_rules("") == []


@pytest.mark.parametrize(
    ("text", "needle", "field"),
    [
        (
            "- unique: id\n- frobnicate: {column: a}\n",
            "line 2: unknown rule 'frobnicate'",
            "frobnicate",
        ),
        (
            "rules:\n  - not_null: {column: a, max: 3}\n",
            "line 2: rule 'not_null' has no parameter 'max'",
            "not_null",
        ),
        ("- not_null: {column: a, max_share: 2}\n", "line 1: not_null: max_share", "max_share"),
        ("- unique: id\n  - bad: [\n", "invalid YAML at line 2", "source"),
        ("rules: {unique: id}\n", "must be a list", "source"),
        ("- unique\n", "line 1: each rule must be a mapping", "source"),
        ("- in_range: [1, 2]\n", "must be a mapping", "in_range"),
        (
            "- row_count: {min: 1, extra: 2, other: 3}\n",
            "no parameter 'extra', 'other'",
            "row_count",
        ),
    ],
)
def test_load_rules_errors_name_the_rule_and_line(text: str, needle: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        load_rules(text)
    assert needle in info.value.message
    assert info.value.field == field


def test_load_rules_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read rules file") as info:
        load_rules(tmp_path / "missing.yaml")
    assert info.value.field == "source"
    with pytest.raises(InvalidInputError, match="YAML text or a path"):
        load_rules(42)  # type: ignore[arg-type]
