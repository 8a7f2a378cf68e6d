"""Bad and awkward input gives a per-column status, never a NumPy or SciPy error (pytest
turns warnings into errors too); Arrow tables and dicts of arrays work like DataFrames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlcycle.monitoring import ColumnStatus, DriftMethod, drift


def _ref() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "num": rng.normal(size=60),
            "cat": rng.choice(["a", "b", "c"], 60),
            "flag": rng.random(60) < 0.5,
            "count": rng.integers(0, 1000, 60),
        }
    )


def test_a_column_missing_from_current_and_a_new_column() -> None:
    ref = _ref()
    cur = ref.drop(columns=["cat"]).assign(extra=1.0)
    report = drift(ref, cur)
    assert report["cat"].status is ColumnStatus.MISSING_IN_CURRENT
    assert report["extra"].status is ColumnStatus.NEW_IN_CURRENT
    for name in ("cat", "extra"):
        assert report[name].drifted is None
        assert report[name].score is None
        assert report[name].message
    assert report.compared_columns == ["num", "flag", "count"]
    asked = drift(ref, cur, columns=["num", "extra"])
    assert asked["extra"].status is ColumnStatus.MISSING_IN_REFERENCE


@pytest.mark.parametrize("rows", [0, 1, 2])
def test_empty_and_tiny_windows(rows: int) -> None:
    ref = _ref()
    report = drift(ref, ref.head(rows))
    for column in report.columns.values():
        if rows == 0:
            assert column.status is ColumnStatus.EMPTY_CURRENT
            assert column.drifted is None
        else:
            assert column.status is ColumnStatus.OK, column
            assert column.score is not None
            assert column.score >= 0
            assert column.current_rows == rows
    assert (report.share is None) == (rows == 0)


def test_an_empty_reference() -> None:
    ref = _ref()
    report = drift(ref.head(0), ref)
    assert {c.status for c in report.columns.values()} == {ColumnStatus.EMPTY_REFERENCE}
    assert report.share is None
    assert report.drifted is None


def test_a_frame_of_no_rows_with_untyped_columns() -> None:
    ref = _ref()
    report = drift(ref, pd.DataFrame(columns=list(ref.columns)))
    assert {c.status for c in report.columns.values()} == {ColumnStatus.EMPTY_CURRENT}


def test_all_nan_and_all_inf_columns() -> None:
    ref = pd.DataFrame({"x": [np.nan] * 10, "y": [1.0, 2.0] * 5})
    cur = pd.DataFrame({"x": [1.0] * 10, "y": [np.inf, -np.inf, np.nan] * 3 + [np.nan]})
    report = drift(ref, cur)
    assert report["x"].status is ColumnStatus.EMPTY_REFERENCE
    assert report["y"].status is ColumnStatus.EMPTY_CURRENT
    assert report["y"].current_rows == 0


@pytest.mark.parametrize("method", [None, *DriftMethod])
def test_constant_columns(method: DriftMethod | None) -> None:
    rows = 3000 if method is None else 50
    ref = pd.DataFrame({"x": np.full(rows, 2.0), "c": ["k"] * rows})
    report = drift(ref, ref.head(40), method=method)
    for name in ("x", "c"):
        column = report[name]
        if column.status is ColumnStatus.METHOD_NOT_APPLICABLE:
            assert name == "c"
            assert method is not None
            assert method.numeric_only
            continue
        assert column.status is ColumnStatus.OK
        assert column.drifted is False


def test_a_constant_column_that_moves_drifts() -> None:
    report = drift(pd.DataFrame({"x": np.full(3000, 2.0)}), pd.DataFrame({"x": np.full(500, 3.0)}))
    assert report["x"].method is DriftMethod.JENSENSHANNON
    assert report["x"].drifted is True


def test_mismatched_and_unsupported_types() -> None:
    ref = pd.DataFrame(
        {
            "num": [1.5, 2.5, 3.5],
            "cat": ["a", "b", "c"],
            "when": pd.date_range("2024-01-01", periods=3),
            "mixed": [1, "a", 2.5],
            "flag": [True, False, True],
        }
    )
    cur = pd.DataFrame(
        {
            "num": ["x", "y", "z"],
            "cat": [1.0, 2.0, 3.0],
            "when": pd.date_range("2024-02-01", periods=3),
            "mixed": [1, 2, 3],
            "flag": [1.0, 0.0, 1.0],
        }
    )
    report = drift(ref, cur)
    for name in ("num", "cat", "flag"):
        assert report[name].status is ColumnStatus.TYPE_MISMATCH
        assert "reference holds" in (report[name].message or "")
    assert report["when"].status is ColumnStatus.UNSUPPORTED_TYPE
    assert report["mixed"].status is ColumnStatus.UNSUPPORTED_TYPE
    assert report.share is None


def test_integer_categories_accept_floats_in_the_current_data() -> None:
    ref = pd.DataFrame({"k": [1, 2, 3] * 10})
    cur = pd.DataFrame({"k": [1.0, 2.0, np.nan] * 10})  # an int column with a gap
    column = drift(ref, cur)["k"]
    assert column.status is ColumnStatus.OK
    assert column.current_rows == 20
    assert column.drifted is True


def test_numeric_methods_on_categories_are_not_applicable() -> None:
    ref = pd.DataFrame({"c": ["a", "b"] * 10, "x": np.arange(20.0)})
    report = drift(ref, ref, method="wasserstein")
    assert report["c"].status is ColumnStatus.METHOD_NOT_APPLICABLE
    assert "numbers" in (report["c"].message or "")
    assert report["x"].status is ColumnStatus.OK


def test_arrow_tables_give_the_same_report_as_dataframes() -> None:
    rng = np.random.default_rng(4)
    n = 2500
    ref = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "i": rng.integers(0, 500, n),
            "c": rng.choice(["a", "b", "c"], n),
            "b": rng.random(n) < 0.3,
        }
    )
    cur = ref.sample(frac=0.6, random_state=1).assign(x=lambda d: d.x + 0.2)
    expected = drift(ref, cur).to_dict()
    as_arrow = drift(pa.Table.from_pandas(ref), pa.Table.from_pandas(cur, preserve_index=False))
    assert as_arrow.to_dict() == expected
    # chunked, with nulls and a dictionary-encoded column
    table = pa.Table.from_pandas(ref, preserve_index=False)
    chunked = pa.concat_tables([table.slice(0, 1000), table.slice(1000)])
    chunked = chunked.set_column(2, "c", chunked.column("c").dictionary_encode())
    assert drift(chunked, pa.Table.from_pandas(cur, preserve_index=False)).to_dict() == expected
    with_nulls = pa.table({"x": pa.array([1.0, None, 3.0, float("nan")] * 10)})
    column = drift(with_nulls, with_nulls)["x"]
    assert column.reference_rows == 20


def test_dicts_of_arrays() -> None:
    ref = {"x": np.arange(100.0), "c": np.array(["u", "v"] * 50)}
    cur = {"x": np.arange(50.0, 150.0), "c": ["u"] * 100}
    report = drift(ref, cur)
    assert report["x"].method is DriftMethod.KS
    assert report["x"].drifted is True
    assert report["c"].method is DriftMethod.Z
    assert report["c"].drifted is True


def test_pandas_categoricals_and_nullable_types() -> None:
    ref = pd.DataFrame(
        {
            "cat": pd.Categorical(["a", "b", "c"] * 20),
            "n": pd.array([1, 2, None] * 20, dtype="Int64"),
            "s": pd.array(["x", None, "y"] * 20, dtype="string"),
        }
    )
    report = drift(ref, ref.head(30))
    assert {c.status for c in report.columns.values()} == {ColumnStatus.OK}
    assert report["n"].reference_rows == 40
    assert report["s"].reference_rows == 40
