"""Reading user data as record batches, and every bad input."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets.reading import BatchStream, open_batches, prefetch, read_table
from mlcycle.errors import InvalidInputError
from tests.datasets._data import mixed_frame


def _rows(stream: BatchStream) -> list[int]:
    return [batch.num_rows for batch in stream]


def test_dataframe_table_and_record_batch_stream_in_bounded_batches() -> None:
    df = mixed_frame(1_000)
    for data in (df, pa.Table.from_pandas(df), pa.RecordBatch.from_pandas(df)):
        stream = open_batches(data, batch_rows=300)
        assert stream.num_rows == 1_000
        assert _rows(stream) == [300, 300, 300, 100]
        assert stream.schema.names == list(df.columns)
        assert _rows(stream) == [300, 300, 300, 100]  # re-iterable


def test_parquet_file_streams_and_selects_columns(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_pandas(mixed_frame(2_000), preserve_index=False), path)
    stream = open_batches(path, batch_rows=512, columns=["city", "id"])
    assert stream.schema.names == ["city", "id"]
    assert stream.num_rows == 2_000
    assert max(_rows(stream)) <= 512
    assert sum(_rows(stream)) == 2_000
    assert read_table(str(path)).num_rows == 2_000


def test_parquet_strings_as_dictionary_keep_the_stored_schema(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"s": ["a", "b", "a"], "x": [1, 2, 3]}), path)
    stream = open_batches(path, strings_as_dictionary=True)
    assert pa.types.is_dictionary(stream.schema.field("s").type)
    assert stream.stored_schema.field("s").type == pa.string()
    assert next(iter(stream)).column("s").dictionary_decode().to_pylist() == ["a", "b", "a"]


def test_csv_file_streams_in_batches_of_rows(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    mixed_frame(3_000).to_csv(path, index=False)
    stream = open_batches(path, batch_rows=1_000)
    assert stream.num_rows is None
    assert _rows(stream) == [1_000, 1_000, 1_000]
    assert stream.schema.field("normal").type == pa.float64()
    assert read_table(path, columns=["city"]).column_names == ["city"]


def test_compressed_csv_and_empty_fields_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("a,b\n1,x\n2,\n")
    table = read_table(path)
    assert table["b"].to_pylist() == ["x", None]


def test_csv_type_change_after_first_block_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "drift.csv"
    with path.open("w") as f:
        f.write("x\n" + "1\n" * 3_000_000 + "oops\n")
    stream = open_batches(path)
    with pytest.raises(InvalidInputError, match=r"drift\.csv") as info:
        sum(1 for _ in stream)
    assert "csv_column_types" in info.value.message
    fixed = open_batches(path, csv_column_types={"x": pa.string()})
    assert sum(_rows(fixed)) == 3_000_001


def test_missing_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="file not found") as info:
        open_batches(tmp_path / "nope.parquet")
    assert info.value.field == "data"
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="unsupported file type"):
        open_batches(tmp_path / "data.json")


def test_corrupt_parquet_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInputError, match=r"broken\.parquet"):
        open_batches(path)


def test_empty_csv_and_header_only_csv(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InvalidInputError, match=r"empty\.csv"):
        open_batches(empty)
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    with pytest.raises(InvalidInputError, match="no rows"):
        open_batches(header)


def test_empty_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no rows"):
        open_batches(pd.DataFrame({"a": pd.Series([], dtype="float64")}))
    with pytest.raises(InvalidInputError, match="no columns"):
        open_batches(pd.DataFrame())
    with pytest.raises(InvalidInputError, match="no columns"):
        open_batches(pa.table({}))
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int64())}), path)
    with pytest.raises(InvalidInputError, match="no rows"):
        open_batches(path)


def test_unsupported_type_is_named() -> None:
    not_data: Any = {"a": [1]}
    with pytest.raises(InvalidInputError, match=r"builtins\.dict") as info:
        open_batches(not_data)
    assert info.value.field == "data"


def test_mixed_object_columns_are_all_reported() -> None:
    df = pd.DataFrame(
        {
            "x": pd.Series([1, "a", None], dtype=object),
            "ok": [1.0, 2.0, 3.0],
            "y": pd.Series([b"raw", "text", 2.5], dtype=object),
        }
    )
    with pytest.raises(InvalidInputError) as info:
        open_batches(df)
    assert "column 'x' mixes types int and str" in info.value.message
    assert "column 'y' mixes types bytes, float and str" in info.value.message
    assert info.value.field == "x,y"


def test_duplicate_and_unknown_columns_and_bad_batch_rows() -> None:
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInputError, match="duplicate column names: 'a'"):
        open_batches(df)
    with pytest.raises(InvalidInputError, match="unknown column") as info:
        open_batches(pd.DataFrame({"a": [1]}), columns=["b"])
    assert info.value.field == "columns"
    for bad in (0, -1, 2.5, True):
        with pytest.raises(InvalidInputError) as bad_info:
            open_batches(pd.DataFrame({"a": [1]}), batch_rows=bad)  # type: ignore[arg-type]
        assert bad_info.value.field == "batch_rows"


def test_stream_columns_can_be_selected_again() -> None:
    stream = open_batches(pa.table({"a": [1, 2, 3], "b": [4, 5, 6]}), batch_rows=2)
    again = open_batches(stream, columns=["b"], batch_rows=2)
    assert pa.Table.from_batches(list(again)).to_pydict() == {"b": [4, 5, 6]}
    assert open_batches(stream) is stream


def test_prefetch_preserves_order_and_reraises_errors() -> None:
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("boom")

    items = prefetch(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="boom"):
        next(items)


def test_prefetch_stops_its_thread_when_the_consumer_stops() -> None:
    produced = []

    def numbers() -> Iterator[int]:
        for i in range(1_000):
            produced.append(i)
            yield i

    items = prefetch(numbers(), depth=2)
    assert next(items) == 0
    items.close()  # type: ignore[attr-defined]
    assert len(produced) < 10


def test_read_table_of_dataframe_drops_the_index() -> None:
    df = pd.DataFrame({"a": np.arange(3)}, index=["x", "y", "z"])
    assert read_table(df).column_names == ["a"]
