"""Splits: reproducible, stratified, group-aware, time-ordered; argument checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.splitting import split_indices
from mlcycle.errors import InvalidInputError


def _frame(n: int = 2_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "label": rng.choice(["a", "b", "c"], n, p=[0.7, 0.2, 0.1]),
            "user": rng.integers(0, 120, n),
            "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(n), "min"),
        }
    )


def _check_partition(parts: dict[str, np.ndarray], n: int) -> None:
    together = np.concatenate(list(parts.values()))
    assert np.array_equal(np.sort(together), np.arange(n))
    for indices in parts.values():
        assert indices.dtype == np.int64
        assert np.all(np.diff(indices) > 0)


def test_random_split_sizes_and_reproducibility() -> None:
    df = _frame()
    parts = split_indices(df, test=0.2, validation=0.1, seed=3)
    assert sorted(parts) == ["test", "train", "validation"]
    assert {k: len(v) for k, v in parts.items()} == {"train": 1400, "test": 400, "validation": 200}
    _check_partition(parts, len(df))
    again = split_indices(df, test=0.2, validation=0.1, seed=3)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    other = split_indices(df, test=0.2, validation=0.1, seed=4)
    assert not np.array_equal(parts["test"], other["test"])
    assert sorted(split_indices(df)) == ["test", "train"]


def test_split_does_not_depend_on_the_source_or_batches(tmp_path: Path) -> None:
    df = _frame()
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=333)
    chunked = pa.Table.from_batches(pa.Table.from_pandas(df).to_batches(max_chunksize=97))
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    for kwargs in ({}, {"stratify": "label"}, {"group": "user"}, {"time": "ts"}):
        expected = split_indices(df, test=0.25, seed=5, **kwargs)  # type: ignore[arg-type]
        for source in (path, chunked, csv):
            got = split_indices(source, test=0.25, seed=5, **kwargs)  # type: ignore[arg-type]
            assert all(np.array_equal(expected[k], got[k]) for k in expected), (kwargs, source)


def test_stratified_split_keeps_each_class_share() -> None:
    df = _frame()
    parts = split_indices(df, test=0.2, validation=0.1, stratify="label")
    _check_partition(parts, len(df))
    overall = df["label"].value_counts(normalize=True)
    for name, indices in parts.items():
        shares = df["label"].iloc[indices].value_counts(normalize=True)
        assert np.allclose(shares[overall.index], overall, atol=0.01), name
    counts = df["label"].value_counts()
    test_counts = df["label"].iloc[parts["test"]].value_counts()
    assert all(abs(test_counts[c] - 0.2 * counts[c]) <= 1 for c in counts.index)


def test_stratify_treats_missing_labels_as_a_class() -> None:
    labels = ["x"] * 10 + [None] * 10
    parts = split_indices(pd.DataFrame({"y": labels}), test=0.5, stratify="y")
    assert sorted(parts["test"] >= 10) == [False] * 5 + [True] * 5


def test_stratify_with_a_too_small_class_names_it() -> None:
    df = pd.DataFrame({"y": ["a"] * 20 + ["rare"]})
    with pytest.raises(InvalidInputError, match="class 'rare'") as info:
        split_indices(df, test=0.2, stratify="y")
    assert info.value.field == "stratify"


def test_group_split_keeps_groups_together() -> None:
    df = _frame()
    parts = split_indices(df, test=0.2, validation=0.1, group="user", seed=1)
    _check_partition(parts, len(df))
    groups = {k: set(df["user"].iloc[v]) for k, v in parts.items()}
    assert not groups["train"] & groups["test"]
    assert not groups["train"] & groups["validation"]
    assert not groups["test"] & groups["validation"]
    assert abs(len(parts["test"]) / len(df) - 0.2) < 0.02
    assert abs(len(parts["validation"]) / len(df) - 0.1) < 0.02


def test_group_split_needs_enough_groups() -> None:
    with pytest.raises(InvalidInputError, match="1 group") as info:
        split_indices(pd.DataFrame({"g": [1, 1, 1]}), group="g")
    assert info.value.field == "group"


def test_time_split_puts_the_latest_rows_in_test() -> None:
    df = _frame()
    parts = split_indices(df, test=0.2, validation=0.1, time="ts")
    _check_partition(parts, len(df))
    ts = df["ts"]
    assert ts.iloc[parts["train"]].max() < ts.iloc[parts["validation"]].min()
    assert ts.iloc[parts["validation"]].max() < ts.iloc[parts["test"]].min()
    assert len(parts["test"]) == 400
    assert len(parts["validation"]) == 200


def test_time_ties_are_broken_by_row_order() -> None:
    parts = split_indices(pd.DataFrame({"t": [1, 1, 1, 1]}), test=0.5, time="t")
    assert parts["test"].tolist() == [2, 3]


def test_time_column_with_missing_values_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="missing") as info:
        split_indices(pd.DataFrame({"t": [1.0, None, 3.0]}), test=0.3, time="t")
    assert info.value.field == "time"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"test": 1.0}, "test"),
        ({"test": -0.1}, "test"),
        ({"test": True}, "test"),
        ({"validation": 1.5}, "validation"),
        ({"test": 0.6, "validation": 0.4}, "validation"),
        ({"stratify": "nope"}, "stratify"),
        ({"group": "nope"}, "group"),
        ({"time": "nope"}, "time"),
        ({"stratify": "y", "time": "y"}, "stratify"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        split_indices(pd.DataFrame({"y": range(10)}), **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_too_few_rows() -> None:
    with pytest.raises(InvalidInputError, match="needs at least 3") as info:
        split_indices(pd.DataFrame({"y": [1, 2]}), test=0.3, validation=0.3)
    assert info.value.field == "test"
    parts = split_indices(pd.DataFrame({"y": [1, 2, 3]}), test=0.01, validation=0.01)
    assert [len(parts[k]) for k in ("train", "test", "validation")] == [1, 1, 1]


def test_zero_test_share_gives_an_empty_test_split() -> None:
    parts = split_indices(pd.DataFrame({"y": range(5)}), test=0.0)
    assert len(parts["test"]) == 0
    assert len(parts["train"]) == 5
