"""Comparing profiles and schemas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.diff import ProfileDiff, diff_profiles, diff_schemas
from mlcycle.datasets.profile import profile
from mlcycle.errors import InvalidInputError


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    old = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 1_000),
            "n": rng.integers(0, 10, 1_000),
            "city": rng.choice(["a", "b"], 1_000),
            "gone": np.ones(1_000),
        }
    )
    x = rng.normal(0.5, 2, 1_200)
    x[:120] = np.nan
    new = pd.DataFrame(
        {
            "x": x,
            "n": rng.integers(0, 10, 1_200).astype(float),
            "city": rng.choice(["a", "b", "c"], 1_200),
            "fresh": np.zeros(1_200),
        }
    )
    return old, new


def test_schema_rows_and_metric_changes() -> None:
    old, new = _frames()
    d = diff_profiles(profile(old), profile(new))
    assert (d.old_rows, d.new_rows) == (1_000, 1_200)
    assert d.schema.added_columns == ("fresh",)
    assert d.schema.removed_columns == ("gone",)
    [change] = d.schema.type_changes
    assert (change.column, change.old_type, change.new_type) == ("n", "int64", "double")
    assert (change.old_logical, change.new_logical) == ("integer", "float")
    x = {m.metric: m for m in d.column("x").changes}
    assert set(x) == {"missing_share", "mean", "std", "distinct_count", "min", "max"}
    assert x["missing_share"].old == 0.0
    assert x["missing_share"].new == pytest.approx(0.1)
    assert x["mean"].delta == pytest.approx(np.nanmean(new["x"]) - old["x"].mean(), rel=1e-9)
    assert x["std"].relative is not None
    assert x["std"].relative > 0.5
    city = {m.metric: m for m in d.column("city").changes}
    assert city["distinct_count"].old == 2
    assert city["distinct_count"].new == 3
    assert city["distinct_count"].delta == 1.0
    assert city["distinct_count"].relative == 0.5
    assert d.has_changes


def test_same_data_has_no_changes() -> None:
    old, _ = _frames()
    d = diff_profiles(profile(old), profile(old, batch_rows=100))
    assert not d.has_changes
    assert d.columns == ()
    assert d.column("x").changes == ()
    assert "no changes" in d._repr_html_()


def test_to_dict_is_json_and_round_trips() -> None:
    old, new = _frames()
    d = diff_profiles(profile(old), profile(new))
    data = json.loads(json.dumps(d.to_dict()))
    assert data["schema"]["added_columns"] == ["fresh"]
    first = data["columns"][0]["changes"][0]
    assert {"metric", "old", "new", "delta", "relative"} <= set(first)
    assert ProfileDiff.from_dict(data) == d
    html = d._repr_html_()
    assert "fresh" in html
    assert "removed" in html
    assert "missing_share" in html
    with pytest.raises(InvalidInputError, match="not a profile diff"):
        ProfileDiff.from_dict({})


def test_text_metrics_have_no_delta() -> None:
    a = profile(pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-02-01"])}))
    b = profile(pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-03-01"])}))
    [change] = diff_profiles(a, b).column("d").changes
    assert change.metric == "max"
    assert change.delta is None
    assert change.relative is None


def test_rtol_hides_tiny_changes() -> None:
    a = profile(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    b = profile(pd.DataFrame({"x": [1.0, 2.0, 3.000001]}))
    assert diff_profiles(a, b).has_changes
    assert not diff_profiles(a, b, rtol=1e-3).has_changes


def test_diff_schemas() -> None:
    old = pa.schema({"a": pa.int64(), "b": pa.string()})
    new = pa.schema({"a": pa.float64(), "c": pa.bool_()})
    d = diff_schemas(old, new)
    assert d.added_columns == ("c",)
    assert d.removed_columns == ("b",)
    assert d.type_changes[0].new_logical == "float"
    assert not diff_schemas(old, old).has_changes


def test_bad_arguments() -> None:
    p = profile(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InvalidInputError) as info:
        diff_profiles(p, {"x": 1})  # type: ignore[arg-type]
    assert info.value.field == "old"
    with pytest.raises(InvalidInputError) as info:
        diff_profiles(p, p, rtol=-1)
    assert info.value.field == "rtol"
