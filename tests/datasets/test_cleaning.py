"""Cleanings return the cleaned table and a description of what they did."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.cleaning import (
    CleaningStep,
    Constant,
    clip_range,
    drop_duplicates,
    drop_missing,
    filter_range,
    impute_missing,
    replay,
)
from mlcycle.errors import InvalidInputError

TABLE = pa.table(
    {
        "a": [1, 1, None, None, 2, 7],
        "b": pa.array([1.0, 1.0, None, None, 9.0, float("nan")], from_pandas=False),
        "c": pa.array(["x", "x", None, "y", "y", None]).dictionary_encode(),
    }
)


def test_drop_duplicates_keeps_first_rows_in_order() -> None:
    table, step = drop_duplicates(TABLE)
    assert table["a"].to_pylist() == [1, None, None, 2, 7]
    assert (step.name, step.rows_before, step.rows_after) == ("drop_duplicates", 6, 5)
    assert step.params == {"columns": ["a", "b", "c"]}
    assert drop_duplicates(TABLE, ["a"]).table.num_rows == 4
    df = pd.DataFrame({"k": [3, 3, 1], "v": ["p", "q", "r"]})
    assert drop_duplicates(df, "k").table.to_pydict() == {"k": [3, 1], "v": ["p", "r"]}


def test_drop_duplicates_matches_pandas_on_random_data() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.integers(0, 5, 500), "y": rng.choice(["a", "b"], 500)})
    ours = drop_duplicates(df).table.to_pandas()
    expected = df.drop_duplicates().reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, expected, check_dtype=False)


def test_drop_missing_any_and_all_count_nan() -> None:
    assert drop_missing(TABLE).table.num_rows == 3
    assert drop_missing(TABLE, ["a", "b"], how="all").table.num_rows == 4
    _, step = drop_missing(TABLE, ["b"])
    assert step.rows_after == 3
    assert step.params == {"columns": ["b"], "how": "any"}


def test_impute_mean_median_mode_constant() -> None:
    table, step = impute_missing(TABLE, {"a": "median", "b": "mean", "c": "mode"})
    assert table["a"].to_pylist() == [1.0, 1.0, 1.5, 1.5, 2.0, 7.0]  # median 1.5: float column
    assert table["b"].to_pylist()[2:4] == [11 / 3, 11 / 3]
    assert not math.isnan(table["b"].to_pylist()[5])
    assert table["c"].to_pylist() == ["x", "x", "x", "y", "y", "x"]
    assert pa.types.is_dictionary(table["c"].type)
    assert step.details == {
        "fill_values": {"a": 1.5, "b": 11 / 3, "c": "x"},
        "filled": {"a": 2, "b": 3, "c": 2},
    }
    table, step = impute_missing(TABLE, {"a": Constant(0), "c": Constant("unknown")})
    assert table["a"].to_pylist() == [1, 1, 0, 0, 2, 7]
    assert table.schema.field("a").type == pa.int64()
    assert step.params == {"strategies": {"a": {"constant": 0}, "c": {"constant": "unknown"}}}


def test_impute_mode_ties_take_the_smallest_value() -> None:
    table = pa.table({"s": ["b", "a", None, "b", "a"]})
    assert impute_missing(table, {"s": "mode"}).table["s"].to_pylist()[2] == "a"


def test_impute_errors_name_the_column() -> None:
    cases = [
        ({"c": "mean"}, "c", "needs a numeric column"),
        ({"a": "average"}, "a", "unknown strategy"),
        ({"zzz": "mean"}, "strategies", "unknown column"),
        ({"c": Constant(5)}, "c", "does not fit"),
    ]
    for strategies, field, needle in cases:
        with pytest.raises(InvalidInputError, match=needle) as info:
            impute_missing(TABLE, strategies)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(InvalidInputError, match="all values are missing") as info:
        impute_missing(pa.table({"x": pa.array([None, None], pa.float64())}), {"x": "mean"})
    assert info.value.field == "x"
    with pytest.raises(InvalidInputError) as info:
        impute_missing(TABLE, {})
    assert info.value.field == "strategies"


def test_filter_range_inclusive_and_missing_handling() -> None:
    table, step = filter_range(TABLE, "a", min=1, max=2)
    assert table["a"].to_pylist() == [1, 1, None, None, 2]
    assert step.params == {"column": "a", "min": 1, "max": 2, "keep_missing": True}
    assert filter_range(TABLE, "a", max=1.5, keep_missing=False).table["a"].to_pylist() == [1, 1]
    assert filter_range(TABLE, "b", min=0.5, keep_missing=False).table.num_rows == 3


def test_clip_range_counts_and_keeps_missing() -> None:
    table, step = clip_range(TABLE, "b", min=2, max=5)
    values = table["b"].to_pylist()
    assert values[:5] == [2.0, 2.0, None, None, 5.0]
    assert math.isnan(values[5])
    assert step.details == {"clipped": {"low": 2, "high": 1}}
    with pytest.raises(InvalidInputError, match="does not fit") as info:
        clip_range(TABLE, "a", min=0.5)
    assert info.value.field == "min"


def test_range_argument_errors() -> None:
    with pytest.raises(InvalidInputError) as info:
        filter_range(TABLE, "nope", min=1)
    assert info.value.field == "column"
    with pytest.raises(InvalidInputError, match="give min, max or both"):
        clip_range(TABLE, "a")
    with pytest.raises(InvalidInputError, match="greater than max"):
        filter_range(TABLE, "a", min=3, max=1)
    with pytest.raises(InvalidInputError, match="does not compare") as info:
        filter_range(TABLE, "c", min=3)
    assert info.value.field == "min"


def test_steps_round_trip_and_replay_with_recorded_values() -> None:
    steps: list[CleaningStep] = []
    table = TABLE
    for cleaned in (
        drop_duplicates(table),
        impute_missing(TABLE, {"b": "mean"}),
        filter_range(TABLE, "a", max=5),
        clip_range(TABLE, "b", min=0, max=5),
        drop_missing(TABLE, ["a"]),
    ):
        steps.append(CleaningStep.from_dict(json.loads(json.dumps(cleaned.step.to_dict()))))
    assert [s.name for s in steps] == [
        "drop_duplicates", "impute_missing", "filter_range", "clip_range", "drop_missing",
    ]  # fmt: skip
    serving = pa.table({"a": [1, 9, 1], "b": [None, 7.0, None], "c": ["x", "y", "x"]})
    out = replay(serving, steps)
    assert out.to_pydict() == {"a": [1], "b": [11 / 3], "c": ["x"]}
    with pytest.raises(InvalidInputError, match="unknown cleaning step"):
        replay(serving, [CleaningStep("shuffle", {}, 1, 1)])
    with pytest.raises(InvalidInputError, match="not a cleaning step"):
        CleaningStep.from_dict({"name": "x"})


def test_bad_inputs() -> None:
    not_a_table: Any = [1, 2]
    with pytest.raises(InvalidInputError) as info:
        drop_duplicates(not_a_table)
    assert info.value.field == "data"
    with pytest.raises(InvalidInputError) as info:
        drop_missing(TABLE, how="some")  # type: ignore[arg-type]
    assert info.value.field == "how"
    with pytest.raises(InvalidInputError) as info:
        drop_missing(TABLE, [])
    assert info.value.field == "columns"
    with pytest.raises(InvalidInputError) as info:
        drop_duplicates(pa.table({"l": [[1], [1]]}))
    assert info.value.field == "columns"
