"""The registration pass: one read that profiles, hashes and writes Parquet."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from mlcycle.datasets import ingest as ingest_module
from mlcycle.datasets.ingest import digest_of, ingest
from mlcycle.datasets.profile import profile
from mlcycle.datasets.reading import BatchStream, open_batches
from mlcycle.errors import InvalidInputError
from tests.datasets._data import mixed_frame


def test_writes_the_rows_profiles_and_hashes_them_in_one_pass(tmp_path: Path) -> None:
    df = mixed_frame(5_000)
    source = tmp_path / "in.parquet"
    df.to_parquet(source)
    sink = io.BytesIO()
    done = ingest(open_batches(source, batch_rows=1_000, strings_as_dictionary=True), sink)
    table = pq.read_table(io.BytesIO(sink.getvalue()))
    assert table.to_pandas().equals(df)
    assert table.schema.metadata is None or b"pandas" not in table.schema.metadata
    assert done.num_rows == 5_000
    assert done.size_bytes == len(sink.getvalue())
    assert done.profile == profile(table, batch_rows=1_000)  # of the rows as stored
    assert done.digest == digest_of(open_batches(df))[0]
    assert done.schema.field("city").type == pa.string()  # as stored, not as read


def test_known_digest_is_not_computed_again() -> None:
    sink = io.BytesIO()
    done = ingest(open_batches(pa.table({"a": [1, 2]})), sink, digest="f" * 64)
    assert done.digest == "f" * 64


def test_row_groups_are_large_and_repetitive_columns_dictionary_encoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest_module, "ROW_GROUP_ROWS", 2_500)
    df = mixed_frame(6_000)
    sink = io.BytesIO()
    ingest(open_batches(df, batch_rows=500), sink)
    meta = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2_500, 2_500, 1_000]
    names = meta.schema.names
    encodings = {names[i]: meta.row_group(0).column(i).encodings for i in range(meta.num_columns)}
    assert any("DICTIONARY" in e for e in encodings["city"])
    assert not any("DICTIONARY" in e for e in encodings["normal"])


def test_categorical_and_large_string_columns_are_stored_canonically() -> None:
    df = pd.DataFrame({"c": pd.Categorical(["a", "b", "a"]), "s": ["x", "y", None]})
    table = pa.Table.from_pandas(df).cast(
        pa.schema([("c", pa.dictionary(pa.int8(), pa.string())), ("s", pa.large_string())])
    )
    sink = io.BytesIO()
    done = ingest(open_batches(table), sink)
    stored = pq.read_table(io.BytesIO(sink.getvalue()))
    assert stored.schema.field("c").type == pa.dictionary(pa.int32(), pa.string())
    assert stored.schema.field("s").type == pa.string()
    assert done.profile.column("c").logical_type == "categorical"


def _failing_stream(after: int) -> BatchStream:
    batch = pa.record_batch([pa.array([1, 2, 3])], names=["a"])

    def batches() -> Iterator[pa.RecordBatch]:
        for _ in range(after):
            yield batch
        raise InvalidInputError("the source broke", field="data")

    return BatchStream(batch.schema, batches, num_rows=None, source="broken")


def test_a_source_failing_midway_raises_its_error() -> None:
    with pytest.raises(InvalidInputError, match="the source broke"):
        ingest(_failing_stream(3), io.BytesIO())


def test_a_source_without_rows_is_refused() -> None:
    empty = BatchStream(pa.schema([("a", pa.int64())]), lambda: iter(()), num_rows=None, source="e")
    with pytest.raises(InvalidInputError, match="no rows"):
        ingest(empty, io.BytesIO())


def test_a_column_parquet_cannot_store_is_a_clear_error() -> None:
    dense = pa.UnionArray.from_dense(
        pa.array([0, 1], type=pa.int8()),
        pa.array([0, 0], type=pa.int32()),
        [pa.array([1]), pa.array(["a"])],
    )
    with pytest.raises(InvalidInputError, match="Parquet"):
        ingest(open_batches(pa.table({"u": dense})), io.BytesIO())
