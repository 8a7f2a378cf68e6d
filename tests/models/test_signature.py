"""Signatures: inference from an input example, checking and casting input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.models import ColumnSpec, DataType, Signature, infer_signature


def example() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [31, 45, 52],
            "income": [1.5, np.nan, 3.0],
            "plan": ["a", "b", "a"],
            "active": [True, False, True],
            "segment": pd.Categorical(["x", "y", "x"]),
            "joined": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
        }
    )


def test_infer_names_types_and_optional_columns() -> None:
    sig = infer_signature(example())
    got = {c.name: (c.type, c.optional) for c in sig.inputs}
    assert got == {
        "age": (DataType.INTEGER, False),
        "income": (DataType.FLOAT, True),
        "plan": (DataType.STRING, False),
        "active": (DataType.BOOLEAN, False),
        "segment": (DataType.CATEGORY, False),
        "joined": (DataType.DATETIME, False),
    }
    assert sig.column_names == list(example().columns)
    assert next(c for c in sig.inputs if c.name == "age").dtype == "int64"


def test_outputs_from_predictions() -> None:
    sig = infer_signature(example(), np.array([0.1, 0.2, 0.3]))
    assert sig.outputs == (ColumnSpec("prediction", DataType.FLOAT, "float64"),)


def test_round_trip_through_dict() -> None:
    sig = infer_signature(example(), np.array([1, 0, 1]))
    assert Signature.from_dict(sig.to_dict()) == sig


def test_input_that_conforms_is_passed_through() -> None:
    frame = example()
    assert infer_signature(frame).prepare(frame) is frame


def test_missing_required_column_is_named() -> None:
    sig = infer_signature(example())
    with pytest.raises(InvalidInputError, match="column 'plan' is missing") as caught:
        sig.prepare(example().drop(columns=["plan"]))
    assert caught.value.field == "plan"


def test_missing_optional_column_is_added_as_missing() -> None:
    sig = infer_signature(example())
    prepared = sig.prepare(example().drop(columns=["income"]))
    assert list(prepared.columns) == sig.column_names
    assert prepared["income"].isna().all()


def test_wrong_dtype_is_named() -> None:
    sig = infer_signature(example())
    bad = example().assign(age=[31.5, 45.0, 52.0])
    with pytest.raises(InvalidInputError, match="column 'age' has dtype float64") as caught:
        sig.prepare(bad)
    assert caught.value.field == "age"
    with pytest.raises(InvalidInputError, match="column 'income'"):
        sig.prepare(example().assign(income=["1", "2", "3"]))


def test_int_is_cast_to_float_and_string_to_category() -> None:
    sig = infer_signature(example())
    given = example().assign(income=[1, 2, 3], segment=["x", "y", "y"])
    prepared = sig.prepare(given)
    assert prepared["income"].dtype == np.float64
    assert prepared["income"].tolist() == [1.0, 2.0, 3.0]
    assert isinstance(prepared["segment"].dtype, pd.CategoricalDtype)


def test_python_object_columns_are_cast_when_they_hold_numbers() -> None:
    sig = infer_signature(pd.DataFrame({"x": [1.0, 2.0]}))
    prepared = sig.prepare(pd.DataFrame({"x": pd.Series([1, 2], dtype=object)}))
    assert prepared["x"].dtype == np.float64


def test_extra_columns_are_dropped_and_order_restored() -> None:
    sig = infer_signature(example())
    shuffled = example()[list(reversed(example().columns))].assign(extra=1)
    prepared = sig.prepare(shuffled)
    assert list(prepared.columns) == sig.column_names


def test_arrays_dicts_and_rows_are_accepted() -> None:
    sig = infer_signature(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))
    from_array = sig.prepare(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert list(from_array.columns) == ["a", "b"]
    assert sig.prepare({"b": [1.0], "a": [2.0]})["a"].tolist() == [2.0]
    assert sig.prepare([{"a": 1.0, "b": 2.0}])["b"].tolist() == [2.0]
    with pytest.raises(InvalidInputError, match="3 columns"):
        sig.prepare(np.ones((2, 3)))
    with pytest.raises(InvalidInputError, match="model input must be"):
        sig.prepare("a,b")


def test_array_examples_get_numbered_columns() -> None:
    sig = infer_signature(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert sig.column_names == ["0", "1"]
    assert list(sig.prepare(pd.DataFrame(np.ones((1, 2)))).columns) == ["0", "1"]


def test_bad_signature_dicts_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="inputs"):
        Signature.from_dict({"columns": []})
    with pytest.raises(InvalidInputError, match="type"):
        Signature.from_dict({"inputs": [{"name": "a", "type": "tensor"}]})
