"""Profiles checked against NumPy and pandas on generated data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.profile import (
    QUANTILES,
    DatasetProfile,
    Profiler,
    ProfileSettings,
    profile,
)
from mlcycle.errors import InvalidInputError
from tests.datasets._data import mixed_frame


def test_numeric_statistics_match_numpy_exactly() -> None:
    df = mixed_frame(20_000)
    p = profile(df, batch_rows=3_000)
    col = p.column("normal")
    values = df["normal"].dropna().to_numpy()
    assert col.logical_type == "float"
    assert col.count == 20_000
    assert col.missing_count == int(df["normal"].isna().sum())
    assert col.min == values.min()
    assert col.max == values.max()
    assert col.numeric is not None
    assert col.numeric.mean == pytest.approx(values.mean(), rel=1e-12)
    assert col.numeric.std == pytest.approx(values.std(), rel=1e-12)
    # Fewer values than the reservoir: quantiles are exact.
    assert col.numeric.quantiles_exact
    assert np.allclose(col.numeric.quantiles, np.quantile(values, QUANTILES), rtol=0, atol=0)
    assert col.numeric.quantile(0.5) == np.median(values)
    hist = col.numeric.histogram
    assert len(hist.counts) == 20
    assert len(hist.edges) == 21
    expected, _ = np.histogram(values, bins=np.array(hist.edges))
    assert list(hist.counts) == expected.tolist()
    assert sum(hist.counts) == len(values)


def test_integer_column_keeps_integer_min_max() -> None:
    df = mixed_frame(5_000)
    col = profile(df).column("small_int")
    assert col.logical_type == "integer"
    assert (col.min, col.max) == (-5, 5)
    assert isinstance(col.min, int)
    assert col.distinct_count == 11
    assert col.distinct_exact
    assert col.numeric is not None
    assert col.numeric.mean == pytest.approx(df["small_int"].mean(), rel=1e-12)


def test_exact_statistics_do_not_depend_on_batch_size() -> None:
    df = mixed_frame(10_000)
    a, b = profile(df, batch_rows=777), profile(df, batch_rows=10_000)
    for name in df.columns:
        ca, cb = a.column(name), b.column(name)
        assert (ca.count, ca.missing_count, ca.min, ca.max) == (
            cb.count,
            cb.missing_count,
            cb.min,
            cb.max,
        )
        assert ca.distinct_count == cb.distinct_count
        if ca.numeric is not None and cb.numeric is not None:
            assert ca.numeric.mean == pytest.approx(cb.numeric.mean, rel=1e-12)
            assert ca.numeric.std == pytest.approx(cb.numeric.std, rel=1e-12)
            assert ca.numeric.quantiles == cb.numeric.quantiles


def test_sampled_quantiles_and_histogram_are_close() -> None:
    rng = np.random.default_rng(1)
    values = rng.exponential(2.0, 200_000)
    settings = ProfileSettings(reservoir_size=20_000)
    col = profile(pd.DataFrame({"x": values}), settings=settings).column("x")
    assert col.numeric is not None
    assert not col.numeric.quantiles_exact
    # Rank error of a 20k sample is about 1/sqrt(20k) = 0.7 percentile points.
    ranks = np.searchsorted(np.sort(values), col.numeric.quantiles) / len(values)
    assert np.all(np.abs(ranks - np.array(QUANTILES)) < 0.01)
    hist = col.numeric.histogram
    assert sum(hist.counts) == len(values)
    expected, _ = np.histogram(values, bins=np.array(hist.edges))
    assert np.all(np.abs(np.array(hist.counts) - expected) < 0.01 * len(values))
    assert col.min == values.min()
    assert col.max == values.max()


def test_results_are_reproducible_and_thread_independent() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.normal(size=50_000), "b": rng.integers(0, 10**9, 50_000)})
    settings = ProfileSettings(reservoir_size=1_000, distinct_bound=1_000)
    one = profile(df, settings=settings, threads=1, batch_rows=4_096)
    two = profile(df, settings=settings, threads=2, batch_rows=4_096)
    assert one == two
    other_seed = profile(df, settings=ProfileSettings(reservoir_size=1_000, seed=7))
    assert other_seed.column("a").numeric != one.column("a").numeric


def test_distinct_exact_below_the_bound() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 10**12, 3_000).astype(np.float64)
    col = profile(pd.DataFrame({"x": values}), batch_rows=500).column("x")
    assert col.distinct_exact
    assert col.distinct_count == len(np.unique(values))


@pytest.mark.parametrize("kind", ["float", "string", "wide_int"])
def test_distinct_is_estimated_above_the_bound(kind: str) -> None:
    rng = np.random.default_rng(4)
    ints = rng.integers(0, 10**15, 60_000)
    column: object = {
        "float": ints / 7.0,
        "string": np.array([f"user-{v}" for v in ints]),
        "wide_int": ints,
    }[kind]
    truth = len(np.unique(ints))
    settings = ProfileSettings(distinct_bound=5_000)
    col = profile(pd.DataFrame({"x": column}), settings=settings, batch_rows=8_192).column("x")
    assert not col.distinct_exact
    assert col.distinct_count is not None
    assert abs(col.distinct_count - truth) / truth < 0.03


def test_narrow_integers_stay_exact_beyond_the_bound() -> None:
    values = np.random.default_rng(5).permutation(30_000)
    settings = ProfileSettings(distinct_bound=1_000)
    col = profile(pd.DataFrame({"x": values}), settings=settings).column("x")
    assert col.distinct_exact
    assert col.distinct_count == 30_000


def test_top_values_have_exact_counts() -> None:
    df = mixed_frame(10_000)
    p = profile(df, batch_rows=999, settings=ProfileSettings(top_k=3))
    city = p.column("city")
    expected = df["city"].value_counts()
    assert [t.value for t in city.top_values] == list(expected.index[:3])
    assert [t.count for t in city.top_values] == list(expected.to_numpy()[:3])
    assert city.top_values_exact
    assert city.distinct_count == 4
    flag = p.column("flag")
    assert flag.logical_type == "boolean"
    assert {t.value: t.count for t in flag.top_values} == df["flag"].value_counts().to_dict()


def test_top_values_become_approximate_above_the_bound() -> None:
    rng = np.random.default_rng(6)
    frequent = np.repeat(["hot"], 5_000)
    rare = np.array([f"r{i}" for i in rng.permutation(20_000)])
    values = rng.permutation(np.concatenate([frequent, rare]))
    settings = ProfileSettings(distinct_bound=2_000)
    col = profile(pd.DataFrame({"s": values}), settings=settings, batch_rows=1_000).column("s")
    assert not col.top_values_exact
    assert not col.distinct_exact
    assert col.top_values[0].value == "hot"
    assert 0 < col.top_values[0].count <= 5_000


def test_categorical_datetime_and_other_columns() -> None:
    df = pd.DataFrame(
        {
            "cat": pd.Categorical(["a", "b", "a", None]),
            "when": pd.to_datetime(
                pd.Series(["2024-03-01", None, "2023-01-02 10:00", "2024-01-01"]), format="ISO8601"
            ),
            "lists": [[1], [2, 3], None, []],
        }
    )
    p = profile(df)
    cat = p.column("cat")
    assert cat.logical_type == "categorical"
    assert [(t.value, t.count) for t in cat.top_values] == [("a", 2), ("b", 1)]
    assert cat.missing_count == 1
    when = p.column("when")
    assert when.logical_type == "datetime"
    assert (when.min, when.max) == ("2023-01-02T10:00:00", "2024-03-01T00:00:00")
    assert when.distinct_count == 3
    lists = p.column("lists")
    assert lists.logical_type == "other"
    assert lists.distinct_count is None
    assert lists.missing_count == 1


def test_nan_and_infinity_handling() -> None:
    values = np.array([1.0, np.nan, np.inf, -np.inf, 3.0, np.nan])
    col = profile(pa.table({"x": pa.array(values, from_pandas=False)})).column("x")
    assert col.missing_count == 2
    assert col.numeric is not None
    assert col.numeric.infinite_count == 2
    assert (col.min, col.max, col.numeric.mean) == (1.0, 3.0, 2.0)
    assert col.distinct_count == 4  # 1, 3, inf, -inf


def test_all_missing_column_has_no_numbers() -> None:
    col = profile(pd.DataFrame({"x": [np.nan, np.nan]})).column("x")
    assert col.missing_count == 2
    assert col.numeric is None
    assert col.min is None
    assert col.missing_share == 1.0


def test_parquet_profile_equals_dataframe_profile(tmp_path: Path) -> None:
    df = mixed_frame(8_000)
    path = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=3_000)
    from_file = profile(path, batch_rows=1_000)
    from_frame = profile(df, batch_rows=1_000)
    assert from_file.column("city") == from_frame.column("city")
    assert from_file.column("city").logical_type == "string"
    assert from_file.num_rows == 8_000


def test_json_round_trip_and_html() -> None:
    p = profile(mixed_frame(500))
    data = json.loads(json.dumps(p.to_dict()))
    assert data["format"] == 1
    assert DatasetProfile.from_dict(data) == p
    html = p._repr_html_()
    assert "<table" in html
    assert "city" in html
    assert "500 rows" in html
    escaped = profile(pd.DataFrame({"<b>": ["<script>"]}))._repr_html_()
    assert "<script>" not in escaped
    assert "&lt;script&gt;" in escaped


def test_profiler_streaming_api_and_errors() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0]})
    profiler = Profiler()
    with pytest.raises(InvalidInputError, match="no batches"):
        profiler.result()
    for batch in table.to_batches(max_chunksize=3):
        profiler.update(batch)
    assert profiler.result().column("x").numeric is not None
    profiler.update(table)  # tables are accepted too
    assert profiler.result().num_rows == 8
    with pytest.raises(InvalidInputError, match="differ") as info:
        profiler.update(pa.table({"y": [1.0]}).to_batches()[0])
    assert info.value.field == "batch"
    with pytest.raises(InvalidInputError, match="RecordBatch"):
        profiler.update("not a batch")
    empty = Profiler(pa.schema({"x": pa.float64()})).result()
    assert empty.num_rows == 0
    assert empty.column("x").numeric is None


def test_bad_settings_and_lookups() -> None:
    with pytest.raises(InvalidInputError) as info:
        ProfileSettings(reservoir_size=0)
    assert info.value.field == "reservoir_size"
    with pytest.raises(InvalidInputError) as info:
        ProfileSettings(bins=True)
    assert info.value.field == "bins"
    p = profile(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(InvalidInputError, match="no column 'y'"):
        p.column("y")
    numeric = p.column("x").numeric
    assert numeric is not None
    with pytest.raises(InvalidInputError, match="not stored"):
        numeric.quantile(0.3)
    with pytest.raises(InvalidInputError, match="not a dataset profile"):
        DatasetProfile.from_dict({"columns": []})


def test_constant_column_has_a_single_bin() -> None:
    col = profile(pd.DataFrame({"x": [7, 7, 7]})).column("x")
    assert col.numeric is not None
    assert col.numeric.histogram.counts == (3,)
    assert col.numeric.std == 0.0
