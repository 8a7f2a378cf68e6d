"""Registration's data path: one pass over the batches profiles, hashes and writes Parquet.

The source is read once (a background thread decodes ahead, see
:meth:`~mlcycle.datasets.reading.BatchStream.prefetched`); each batch is profiled in the
calling thread while a writer thread hashes it (:mod:`mlcycle.datasets.digest`) and
appends it to the Parquet file. Memory is bounded by a few batches plus one row group.

Batches are first brought to the canonical schema (:func:`~mlcycle.datasets.digest.
canonical_schema`), the types that are stored. Parquet string columns are read as
dictionaries, which the profiler counts cheaply; they are decoded again for the file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets.digest import ContentHasher, canonical_schema
from mlcycle.datasets.profile import Profiler
from mlcycle.datasets.reading import BatchStream
from mlcycle.datasets.schema import logical_type
from mlcycle.entities import DatasetProfile, ProfileSettings
from mlcycle.errors import InvalidInputError

#: A row group is written when this many rows or bytes are pending.
ROW_GROUP_ROWS = 1 << 20
ROW_GROUP_BYTES = 128 << 20
_QUEUE_DEPTH = 4
_COMPRESSION = "snappy"  # fastest to write of the common codecs; readers everywhere know it


@dataclass(frozen=True)
class Ingested:
    """What one pass over the data found."""

    digest: str
    schema: pa.Schema  # canonical: the schema of the stored file
    profile: DatasetProfile
    num_rows: int
    size_bytes: int


class Conformer:
    """Brings batches of a stream to the canonical (stored) schema.

    ``for_profile`` keeps string columns that were read as dictionaries (the profiler
    counts their codes); ``for_storage`` decodes them, giving exactly the stored types.
    """

    def __init__(self, stream: BatchStream) -> None:
        self.schema = canonical_schema(stream.stored_schema)
        self._profile_types: list[pa.DataType | None] = []
        self._storage_types: list[pa.DataType | None] = []
        for read, want in zip(stream.schema.types, self.schema.types, strict=True):
            keep_dictionary = pa.types.is_dictionary(read) and not pa.types.is_dictionary(want)
            if keep_dictionary:
                self._profile_types.append(None)
                self._storage_types.append(want)
            else:
                self._profile_types.append(None if read == want else want)
                self._storage_types.append(None if read == want else want)
        self._profile_noop = all(t is None for t in self._profile_types)
        self._storage_noop = all(t is None for t in self._storage_types)

    def for_profile(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self._profile_noop:
            return batch
        return _convert(batch, self._profile_types)

    def for_storage(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` as read from the stream (or as given to ``for_profile``) in the stored
        types."""
        if self._storage_noop:
            return batch
        return _convert(batch, self._storage_types)


def _convert(batch: pa.RecordBatch, targets: Sequence[pa.DataType | None]) -> pa.RecordBatch:
    columns = []
    for arr, target in zip(batch.columns, targets, strict=True):
        if target is not None and arr.type != target:
            if pa.types.is_dictionary(arr.type) and not pa.types.is_dictionary(target):
                arr = arr.dictionary_decode()
            if arr.type != target:
                try:
                    arr = arr.cast(target)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise InvalidInputError(
                        f"cannot store a column of type {arr.type} as {target}: {exc}",
                        field="data",
                    ) from exc
        columns.append(arr)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class ParquetSink:
    """Writes batches to a Parquet file in row groups of about ``ROW_GROUP_ROWS`` rows.

    Dictionary encoding is used for dictionary columns and for columns whose first batch
    repeats values (at most half distinct); never for floats, where it costs much time and
    rarely saves space.
    """

    def __init__(self, sink: BinaryIO, schema: pa.Schema) -> None:
        self._sink = sink
        self._schema = schema
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.RecordBatch] = []
        self._rows = 0
        self._bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._sink,
                self._schema,
                compression=_COMPRESSION,
                use_dictionary=_dictionary_columns(batch),
            )
        self._pending.append(batch)
        self._rows += batch.num_rows
        self._bytes += batch.nbytes
        if self._rows >= ROW_GROUP_ROWS or self._bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._pending and self._writer is not None:
            table = pa.Table.from_batches(self._pending, schema=self._schema)
            self._writer.write_table(table, row_group_size=max(1, self._rows))
        self._pending, self._rows, self._bytes = [], 0, 0

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()


def _dictionary_columns(batch: pa.RecordBatch) -> list[str]:
    names = []
    for name, arr in zip(batch.schema.names, batch.columns, strict=True):
        typ = arr.type
        if pa.types.is_dictionary(typ):
            names.append(name)
        elif pa.types.is_floating(typ) or pa.types.is_nested(typ) or len(arr) == 0:
            continue
        elif int(pc.count_distinct(arr).as_py()) <= len(arr) // 2:
            names.append(name)
    return names


def digest_of(stream: BatchStream) -> tuple[str, int]:
    """The content digest and row count of ``stream`` (a pass that only hashes)."""
    conform = Conformer(stream)
    hasher = ContentHasher(conform.schema)
    for batch in stream.prefetched():
        hasher.update(conform.for_storage(batch))
    return hasher.hexdigest(), hasher.num_rows


def ingest(
    stream: BatchStream,
    sink: BinaryIO,
    *,
    digest: str | None = None,
    settings: ProfileSettings | None = None,
    threads: int | None = None,
) -> Ingested:
    """Profile ``stream``, write it to ``sink`` as Parquet and compute its digest, in one
    pass. A ``digest`` known already (from :func:`digest_of`) is not computed again.

    Raises:
        InvalidInputError: the data cannot be read, has no rows, or has a column Parquet
            cannot store.
    """
    conform = Conformer(stream)
    profiler = Profiler(conform.schema, settings=settings, threads=threads)
    writer = ParquetSink(sink, conform.schema)
    workers = [_Worker("mlcycle-dataset-writer", writer.add, writer.close)]
    hasher = None
    if digest is None:
        hasher = ContentHasher(conform.schema)
        workers.append(_Worker("mlcycle-dataset-hasher", hasher.update, lambda: None))
    try:
        for batch in stream.prefetched():
            if any(w.failure is not None for w in workers):
                break
            profiled = conform.for_profile(batch)
            stored = conform.for_storage(profiled)
            for worker in workers:
                worker.put(stored)
            profiler.update(profiled)
    finally:
        for worker in workers:
            worker.finish()
    for worker in workers:
        if worker.failure is not None:
            raise _translate(worker.failure)
    if profiler.num_rows == 0:
        raise InvalidInputError(f"{stream.source} has no rows", field="data")
    found = hasher.hexdigest() if hasher is not None else digest
    assert found is not None
    return Ingested(
        digest=found,
        schema=conform.schema,
        profile=profiler.result(),
        num_rows=profiler.num_rows,
        size_bytes=sink.tell(),
    )


class _Worker:
    """A thread applying ``step`` to each batch put, then ``done``; its first error is kept
    in ``failure`` (later batches are drained, so ``put`` never blocks for good)."""

    def __init__(
        self,
        name: str,
        step: Callable[[pa.RecordBatch], None],
        done: Callable[[], None],
    ) -> None:
        self.failure: BaseException | None = None
        self._queue: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._step = step
        self._done = done
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, batch: pa.RecordBatch) -> None:
        self._queue.put(batch)

    def finish(self) -> None:
        """Signal the end of the batches and wait for the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.failure is None:
                try:
                    self._step(batch)
                except BaseException as exc:  # handed to the caller by ingest()
                    self.failure = exc
        if self.failure is None:
            try:
                self._done()
            except BaseException as exc:
                self.failure = exc


def _translate(exc: BaseException) -> BaseException:
    if isinstance(exc, pa.ArrowException):
        return InvalidInputError(f"cannot store the data as Parquet: {exc}", field="data")
    return exc


def column_schemas(schema: pa.Schema) -> list[dict[str, Any]]:
    """Name, Arrow type name and logical type per column (what a version records)."""
    return [
        {"name": f.name, "type": str(f.type), "logical_type": logical_type(f.type)} for f in schema
    ]
