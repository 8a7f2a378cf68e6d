"""Chunks that a worker reads itself: where the rows of chunks are, not the rows.

With the process and Ray executors, the driver does not read the input and ship each chunk
to a worker: it sends a :class:`ChunkSlice` (a few hundred bytes naming the file, its row
groups and the rows to keep), and the worker reads those rows straight from the local file
or, for ``s3://`` input, from the bucket by ranged requests (credentials from the worker's
own AWS variables; none travel with the work).

A row group is decoded from its start (Parquet cannot start in the middle of one), so the
consecutive chunks that start in the same row group travel together, in one slice: a
worker decodes that row group once, streaming, instead of once per chunk (with row groups
of 1 M rows and chunks of 100,000, reading a chunk alone decoded ten times its rows).

>>> part = Span(file="/data/big.parquet", groups=(3, 4), offset=120, rows=100_000)
>>> ChunkSlice(index=7, start=700_000, spans=(part,), columns=("x",)).rows
100000
"""

from __future__ import annotations

import contextlib
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.artifacts import open_artifact_store
from mlcycle.batch.sources import (
    Chunk,
    ObjectFile,
    ParquetSource,
    RowGroup,
    check_chunk_rows,
    check_columns,
)
from mlcycle.errors import InvalidInputError, MlcycleError

_BUFFER_BYTES = 1 << 20


@dataclass(frozen=True)
class Span:
    """Rows ``offset`` to ``offset + rows - 1`` of the consecutive row groups ``groups`` of
    one Parquet ``file`` (a local path or an ``s3://bucket/key`` URI)."""

    file: str
    groups: tuple[int, ...]
    offset: int
    rows: int


@dataclass(frozen=True)
class ChunkSlice:
    """Chunks ``index`` to ``index + count - 1`` (the first's first row is row ``start``
    of the input; each holds ``chunk_rows`` rows, the input's last chunk fewer), as the
    spans of files that hold them; :meth:`read_chunks` reads them wherever it runs."""

    index: int
    start: int
    spans: tuple[Span, ...]
    columns: tuple[str, ...]
    count: int = 1
    chunk_rows: int = 0  # rows per chunk; needed when ``count`` > 1

    @property
    def rows(self) -> int:
        return sum(span.rows for span in self.spans)

    @property
    def indices(self) -> range:
        """The numbers of the chunks this slice holds."""
        return range(self.index, self.index + self.count)

    def read(self) -> Chunk:
        """All the slice's rows as one chunk numbered :attr:`index` (the chunk, when
        ``count`` is 1), with :attr:`columns` only. Raises InvalidInputError naming the
        file when it cannot be read."""
        return Chunk(self.index, self.start, pa.Table.from_batches(list(self._batches())))

    def read_chunks(self) -> Iterator[Chunk]:
        """The slice's chunks one by one, each decoded once while streaming through its
        row groups (memory holds about one chunk)."""
        if self.count == 1:
            yield self.read()
            return
        schema: pa.Schema | None = None
        held: list[pa.RecordBatch] = []
        have = 0
        index, start = self.index, self.start
        for batch in self._batches():
            schema = batch.schema
            offset = 0
            while offset < batch.num_rows:
                piece = batch.slice(offset, self.chunk_rows - have)
                held.append(piece)
                have += piece.num_rows
                offset += piece.num_rows
                if have == self.chunk_rows:
                    yield Chunk(index, start, pa.Table.from_batches(held, schema))
                    index, start, held, have = index + 1, start + have, [], 0
        if held:
            yield Chunk(index, start, pa.Table.from_batches(held, schema))

    def _batches(self) -> Iterator[pa.RecordBatch]:
        batch_rows = self.chunk_rows or self.rows
        for span in self.spans:
            yield from _read_span(span, list(self.columns), batch_rows)


def _read_span(span: Span, columns: list[str], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The span's rows, streamed: decoding starts at its first row group's start and stops
    at its last row (the rest of the row group is not decoded)."""
    skip, need = span.offset, span.rows
    try:
        with _opened(span.file) as readable:
            reader = pq.ParquetFile(readable, buffer_size=_BUFFER_BYTES, pre_buffer=False)
            batches = reader.iter_batches(
                batch_size=max(1, batch_rows),
                row_groups=list(span.groups),
                columns=columns,
                use_threads=False,
            )
            for batch in batches:
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    continue
                piece = batch.slice(skip, need)
                skip, need = 0, need - piece.num_rows
                yield piece
                if need == 0:
                    break
    except MlcycleError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(
            f"cannot read Parquet file '{span.file}': {exc}", field="input"
        ) from exc


@contextlib.contextmanager
def _opened(file: str) -> Iterator[Any]:
    if not file.startswith("s3://"):
        yield file
        return
    bucket, _, key = file[len("s3://") :].partition("/")
    with open_artifact_store(f"s3://{bucket}").open(key) as handle:
        yield handle


def parquet_slices(
    source: ParquetSource,
    *,
    chunk_rows: int,
    columns: Sequence[str] | None,
    skip: Container[int] = frozenset(),
) -> Iterator[ChunkSlice]:
    """The chunks of ``source`` not in ``skip``, in order, as slices a worker reads: the
    same chunks (rows and numbering) as ``source.chunks(...)`` gives. Consecutive chunks
    that start in the same row group are one slice (their row group is decoded once)."""
    check_chunk_rows(chunk_rows)
    names = tuple(check_columns(source.schema, columns, source.description))
    files = [f.uri if isinstance(f, ObjectFile) else str(Path(f).resolve()) for f in source.files]
    groups = source.row_groups
    first = 0  # the row group that holds the current chunk's first row
    together: list[int] = []  # chunks to send together: consecutive, same first row group
    home = -1
    for index in range(-(-source.num_rows // chunk_rows)):
        start = index * chunk_rows
        while groups[first].stop <= start:
            first += 1
        if together and (index in skip or first != home):
            yield _slice(source, files, groups, home, together, chunk_rows, names)
            together = []
        if index not in skip:
            together.append(index)
            home = first
    if together:
        yield _slice(source, files, groups, home, together, chunk_rows, names)


def _slice(
    source: ParquetSource,
    files: list[str],
    groups: list[RowGroup],
    first: int,
    indices: list[int],
    chunk_rows: int,
    names: tuple[str, ...],
) -> ChunkSlice:
    """The slice of the consecutive chunks ``indices``, the first starting in row group
    number ``first``."""
    start = indices[0] * chunk_rows
    stop = min((indices[-1] + 1) * chunk_rows, source.num_rows)
    spans: list[Span] = []
    run: list[RowGroup] = []
    for group in groups[first:]:
        if group.start >= stop:
            break
        if run and (run[-1].file != group.file or run[-1].group + 1 != group.group):
            spans.append(_span(files, run, start, stop))
            run = []
        run.append(group)
    spans.append(_span(files, run, start, stop))
    return ChunkSlice(
        index=indices[0],
        start=start,
        spans=tuple(spans),
        columns=names,
        count=len(indices),
        chunk_rows=chunk_rows,
    )


def _span(files: list[str], run: list[RowGroup], start: int, stop: int) -> Span:
    first, last = run[0], run[-1]
    lo, hi = max(start, first.start), min(stop, last.stop)
    return Span(
        file=files[first.file],
        groups=tuple(g.group for g in run),
        offset=lo - first.start,
        rows=hi - lo,
    )
