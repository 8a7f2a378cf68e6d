"""Content digests depend on the rows, not on how they arrive; fingerprints on the bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.digest import (
    ContentHasher,
    canonical_schema,
    canonical_type,
    file_fingerprint,
)
from mlcycle.datasets.ingest import digest_of
from mlcycle.datasets.reading import open_batches
from tests.datasets._data import mixed_frame


def _digest(data: object, batch_rows: int = 65_536) -> str:
    stream = open_batches(data, batch_rows=batch_rows, strings_as_dictionary=True)
    return digest_of(stream)[0]


def test_same_rows_same_digest_whatever_the_batching_and_source(tmp_path: Path) -> None:
    df = mixed_frame(3_000)
    parquet = tmp_path / "a.parquet"
    df.to_parquet(parquet, row_group_size=700)
    other = tmp_path / "b.parquet"
    pq.write_table(pa.Table.from_pandas(df), other, compression="zstd", use_dictionary=False)
    digests = {
        _digest(df),
        _digest(df, batch_rows=333),
        _digest(pa.Table.from_pandas(df)),
        _digest(parquet),
        _digest(other, batch_rows=1_000),
    }
    assert len(digests) == 1


def test_csv_with_the_same_types_has_the_same_digest(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"], "c": [0.5, np.nan, 2.0]})
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    assert _digest(path) == _digest(df)


def test_any_change_changes_the_digest() -> None:
    df = mixed_frame(500)
    base = _digest(df)
    changed = df.copy()
    changed.loc[10, "normal"] = 123.0
    renamed = df.rename(columns={"city": "town"})
    reordered = df[list(reversed(df.columns))]
    retyped = df.astype({"small_int": "float64"})
    fewer = df.iloc[:-1]
    nulled = df.copy()
    nulled.loc[3, "city"] = None
    digests = [_digest(d) for d in (changed, renamed, reordered, retyped, fewer, nulled)]
    assert len({base, *digests}) == 7


def test_nulls_ignore_the_bytes_under_them_and_differ_from_empty_and_zero() -> None:
    with_garbage = pa.Array.from_buffers(
        pa.int64(),
        3,
        [pa.array([True, False, True]).buffers()[1], pa.array([1, 99, 3]).buffers()[1]],
        null_count=1,
    )
    clean = pa.array([1, None, 3], type=pa.int64())
    assert with_garbage.to_pylist() == clean.to_pylist()

    def digest(arr: pa.Array) -> str:
        hasher = ContentHasher(canonical_schema(pa.schema([("v", arr.type)])))
        hasher.update(pa.record_batch([arr], names=["v"]))
        return hasher.hexdigest()

    assert digest(with_garbage) == digest(clean)
    assert digest(clean) != digest(pa.array([1, 0, 3]))
    assert digest(pa.array(["a", None])) != digest(pa.array(["a", ""]))


def test_sliced_and_large_types_hash_as_their_canonical_form() -> None:
    strings = pa.array(["alpha", "beta", None, "delta", "eps"])
    sliced = pa.record_batch([strings.slice(1, 3)], names=["s"])
    plain = pa.record_batch([pa.array(["beta", None, "delta"])], names=["s"])
    large = pa.record_batch([pa.array(["beta", None, "delta"], pa.large_string())], names=["s"])
    results = set()
    for batch in (sliced, plain, large):
        hasher = ContentHasher(canonical_schema(batch.schema))
        hasher.update(batch)
        results.add(hasher.hexdigest())
    assert len(results) == 1


def test_categories_are_hashed_by_value() -> None:
    a = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], categories=["x", "y", "z"])})
    b = pd.DataFrame({"c": pd.Categorical(["x", "y", "x"], categories=["y", "x"])})
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(pd.DataFrame({"c": ["x", "y", "x"]}))  # category vs text


def test_canonical_types() -> None:
    assert canonical_type(pa.large_string()) == pa.string()
    assert canonical_type(pa.large_binary()) == pa.binary()
    assert canonical_type(pa.dictionary(pa.int8(), pa.large_string())) == pa.dictionary(
        pa.int32(), pa.string()
    )
    schema = canonical_schema(
        pa.schema([pa.field("a", pa.int64(), nullable=False)]).with_metadata({"k": "v"})
    )
    assert schema.field("a").nullable
    assert schema.metadata is None


def test_booleans_dates_decimals_and_lists_hash() -> None:
    import datetime as dt
    import decimal

    table = pa.table(
        {
            "b": [True, None, False],
            "d": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
            "m": pa.array(
                [decimal.Decimal("1.5"), None, decimal.Decimal("2")], pa.decimal128(5, 2)
            ),
            "l": [[1, 2], None, []],
        }
    )
    one = _digest(table, batch_rows=1)
    assert one == _digest(pa.table(table.to_pydict(), schema=table.schema), batch_rows=1)
    assert one != _digest(table.slice(0, 2), batch_rows=1)


def test_file_fingerprint_is_of_the_bytes(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_bytes(b"x\n" * 100_000)
    b = tmp_path / "b.csv"
    b.write_bytes(b"x\n" * 100_000)
    assert file_fingerprint(a, "csv") == file_fingerprint(b, "csv")
    assert file_fingerprint(a, "csv", threads=1) == file_fingerprint(a, "csv", threads=4)
    assert file_fingerprint(a, "csv") != file_fingerprint(a, "parquet")
    b.write_bytes(b"x\n" * 99_999 + b"y\n")
    assert file_fingerprint(a, "csv") != file_fingerprint(b, "csv")


@pytest.mark.parametrize("size", [0, 1, (16 << 20) + 5])
def test_fingerprint_of_any_size(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.parquet"
    path.write_bytes(b"\1" * size)
    assert file_fingerprint(path, "parquet").startswith("parquet:")
