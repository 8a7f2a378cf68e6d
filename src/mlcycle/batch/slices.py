"""Chunks that a worker reads itself: where the rows of one chunk are, not the rows.

With the process and Ray executors, the driver does not read the input and ship each chunk
to a worker: it sends a :class:`ChunkSlice` (a few hundred bytes naming the file, its row
groups and the rows to keep), and the worker reads those rows straight from the local file
or, for ``s3://`` input, from the bucket by ranged requests (credentials from the worker's
own AWS variables; none travel with the work).

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
    """Chunk ``index`` (its first row is row ``start`` of the input), as the spans of files
    that hold it; :meth:`read` reads it wherever it runs."""

    index: int
    start: int
    spans: tuple[Span, ...]
    columns: tuple[str, ...]

    @property
    def rows(self) -> int:
        return sum(span.rows for span in self.spans)

    def read(self) -> Chunk:
        """The chunk's rows, with :attr:`columns` only. Raises InvalidInputError naming
        the file when it cannot be read."""
        tables = [_read_span(span, list(self.columns)) for span in self.spans]
        data = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        return Chunk(self.index, self.start, data)


def _read_span(span: Span, columns: list[str]) -> pa.Table:
    try:
        with _opened(span.file) as readable:
            reader = pq.ParquetFile(readable, buffer_size=_BUFFER_BYTES, pre_buffer=False)
            table = reader.read_row_groups(list(span.groups), columns=columns, use_threads=False)
    except MlcycleError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(
            f"cannot read Parquet file '{span.file}': {exc}", field="input"
        ) from exc
    return table.slice(span.offset, span.rows)


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
    same chunks (rows and numbering) as ``source.chunks(...)`` gives."""
    check_chunk_rows(chunk_rows)
    names = tuple(check_columns(source.schema, columns, source.description))
    files = [f.uri if isinstance(f, ObjectFile) else str(Path(f).resolve()) for f in source.files]
    groups = source.row_groups
    first = 0  # the first row group that may hold the current chunk
    for index in range(-(-source.num_rows // chunk_rows)):
        start, stop = index * chunk_rows, min((index + 1) * chunk_rows, source.num_rows)
        while groups[first].stop <= start:
            first += 1
        if index in skip:
            continue
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
        yield ChunkSlice(index=index, start=start, spans=tuple(spans), columns=names)


def _span(files: list[str], run: list[RowGroup], start: int, stop: int) -> Span:
    first, last = run[0], run[-1]
    lo, hi = max(start, first.start), min(stop, last.stop)
    return Span(
        file=files[first.file],
        groups=tuple(g.group for g in run),
        offset=lo - first.start,
        rows=hi - lo,
    )
