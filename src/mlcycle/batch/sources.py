"""Inputs of a batch prediction, read as numbered chunks of rows.

Chunk ``i`` holds rows ``[i * chunk_rows, (i + 1) * chunk_rows)`` of the input, so the same
input cut with the same ``chunk_rows`` gives the same chunks on every run: that is what
lets a batch job skip the chunks an earlier, interrupted run finished. A source also has a
fingerprint (paths, sizes and modification times, or a dataset's content digest) that
says whether the input changed between two runs.

* :class:`ParquetSource` - one Parquet file or a directory of them (read in sorted path
  order). Row groups that hold only finished chunks are not read at all.
* :class:`StreamSource` - any :class:`~mlcycle.datasets.reading.BatchStream` (CSV files,
  datasets in a remote artifact store): read from the start; finished chunks are read but
  not predicted again.

>>> import pyarrow as pa
>>> source = StreamSource(open_batches(pa.table({"x": list(range(5))})), {"table": "x"})
>>> [(c.index, c.start, c.data.num_rows) for c in source.chunks(chunk_rows=2, columns=None)]
[(0, 0, 2), (1, 2, 2), (2, 4, 1)]
"""

from __future__ import annotations

import contextlib
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.artifacts import open_artifact_store
from mlcycle.datasets.reading import BatchStream, open_batches
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2")
_BUFFER_BYTES = 1 << 20
_NO_CHUNKS: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` to ``start + data.num_rows - 1`` of the input: chunk number ``index``."""

    index: int
    start: int
    data: pa.Table

    @property
    def stop(self) -> int:
        return self.start + int(self.data.num_rows)


class ChunkSource(Protocol):
    """An input that can be cut into numbered chunks of rows, in order."""

    @property
    def description(self) -> str:
        """What the input is, for messages (``file 'x.parquet'``, ``dataset churn:2``)."""
        ...

    @property
    def schema(self) -> pa.Schema:
        """The columns of the input, with their Arrow types."""
        ...

    @property
    def num_rows(self) -> int | None:
        """The number of rows, when known without reading the data."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this exact input (changes when the data may have changed)."""
        ...

    def chunks(
        self,
        *,
        chunk_rows: int,
        columns: Sequence[str] | None,
        skip: Container[int] = _NO_CHUNKS,
    ) -> Iterator[Chunk]:
        """The chunks whose index is not in ``skip``, in order, with ``columns`` only."""
        ...


def rechunk(
    pieces: Iterable[tuple[int, pa.RecordBatch]], chunk_rows: int, skip: Container[int]
) -> Iterator[Chunk]:
    """Cut ``(first row, batch)`` pieces, in row order, into chunks of ``chunk_rows`` rows;
    rows of chunks in ``skip`` are dropped. Pieces may leave out rows of skipped chunks."""
    held: list[pa.RecordBatch] = []
    held_index = -1
    next_row = 0
    schema: pa.Schema | None = None
    for start, batch in pieces:
        schema = batch.schema
        offset = 0
        while offset < batch.num_rows:
            row = start + offset
            index = row // chunk_rows
            take = min(batch.num_rows - offset, (index + 1) * chunk_rows - row)
            if index not in skip:
                if held and (index != held_index or row != next_row):
                    raise RuntimeError(f"rows of chunk {held_index} are missing from the input")
                held.append(batch.slice(offset, take))
                held_index, next_row = index, row + take
                if next_row == (index + 1) * chunk_rows:
                    yield Chunk(index, index * chunk_rows, pa.Table.from_batches(held, schema))
                    held = []
            offset += take
    if held:
        yield Chunk(held_index, held_index * chunk_rows, pa.Table.from_batches(held, schema))


def check_chunk_rows(chunk_rows: int) -> int:
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidInputError(
            f"chunk_rows must be a positive integer, got {chunk_rows!r}", field="chunk_rows"
        )
    return chunk_rows


def check_columns(schema: pa.Schema, columns: Sequence[str] | None, what: str) -> list[str]:
    if columns is None:
        return list(schema.names)
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise InvalidInputError(
            f"{what} has no column {missing[0]!r}; its columns: {', '.join(schema.names)}",
            field=missing[0],
        )
    return list(columns)


def _file_stat(path: Path | ObjectFile) -> dict[str, Any]:
    if isinstance(path, ObjectFile):
        return {"uri": path.uri, "size": path.size}
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@dataclass(frozen=True)
class ObjectFile:
    """A Parquet file in object storage (``s3://bucket/key``), read by ranged requests:
    the footer, then only the row groups and columns a chunk needs."""

    uri: str
    key: str
    size: int
    store: Any

    def open(self) -> BinaryIO:
        handle: BinaryIO = self.store.open(self.key)
        return handle

    def __str__(self) -> str:
        return self.uri


def object_files(uri: str) -> list[ObjectFile]:
    """The Parquet file ``uri`` names, or every Parquet file under that prefix, sorted."""
    bucket_and_key = uri[len("s3://") :].strip("/")
    bucket, _, key = bucket_and_key.partition("/")
    store = open_artifact_store(f"s3://{bucket}")
    if key.lower().endswith(PARQUET_SUFFIXES):
        try:
            return [ObjectFile(uri, key, store.size(key), store)]
        except ArtifactNotFoundError as exc:
            raise InvalidInputError(f"input file not found: '{uri}'", field="input") from exc
    keys = [k for k in store.iter_keys(key) if k.lower().endswith(PARQUET_SUFFIXES)] if key else []
    if not keys:
        raise InvalidInputError(f"'{uri}' holds no Parquet files (*.parquet, *.pq)", field="input")
    return [ObjectFile(f"s3://{bucket}/{k}", k, store.size(k), store) for k in keys]


@contextlib.contextmanager
def _readable(file: Path | ObjectFile) -> Iterator[Any]:
    if isinstance(file, ObjectFile):
        with file.open() as handle:
            yield handle
    else:
        yield file


# -- Parquet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowGroup:
    """Row group ``group`` of file number ``file``: rows ``start`` to ``stop - 1`` of the
    input."""

    file: int
    group: int
    start: int
    num_rows: int

    @property
    def stop(self) -> int:
        return self.start + self.num_rows


class ParquetSource:
    """A Parquet file, or every ``*.parquet``/``*.pq`` file under a directory (sorted by
    path; partition values in directory names are not turned into columns).

    ``fingerprint`` replaces the default one (each file's path, size and modification
    time), e.g. with a dataset version's content digest. Raises InvalidInputError for a
    missing, unreadable or empty input, or files whose columns disagree (naming them).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        fingerprint: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> None:
        self._description = description or f"Parquet input '{path}'"
        self._files: list[Path | ObjectFile] = (
            list(object_files(path))
            if isinstance(path, str) and path.startswith("s3://")
            else list(_parquet_files(Path(path)))
        )
        self._fingerprint = dict(fingerprint) if fingerprint is not None else None
        self._groups: list[RowGroup] = []
        schema: pa.Schema | None = None
        start = 0
        for number, file in enumerate(self._files):
            meta = _open_parquet(file)
            file_schema = meta.schema_arrow
            if schema is None:
                schema = file_schema
            elif not file_schema.equals(schema):
                raise InvalidInputError(
                    f"'{file}' does not have the columns of '{self._files[0]}': "
                    f"{_schema_difference(schema, file_schema)}",
                    field="input",
                )
            for group in range(meta.metadata.num_row_groups):
                rows = meta.metadata.row_group(group).num_rows
                if rows:
                    self._groups.append(RowGroup(number, group, start, rows))
                    start += rows
        assert schema is not None
        if len(schema) == 0 or start == 0:
            raise InvalidInputError(f"{self._description} has no rows", field="input")
        self._schema = schema
        self._num_rows = start

    @property
    def description(self) -> str:
        return self._description

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def num_rows(self) -> int:
        return self._num_rows

    @property
    def files(self) -> list[Path | ObjectFile]:
        return list(self._files)

    @property
    def row_groups(self) -> list[RowGroup]:
        """The non-empty row groups of the files, in input order."""
        return list(self._groups)

    def fingerprint(self) -> dict[str, Any]:
        if self._fingerprint is not None:
            return dict(self._fingerprint)
        return {"parquet": [_file_stat(f) for f in self._files], "rows": self._num_rows}

    def chunks(
        self,
        *,
        chunk_rows: int,
        columns: Sequence[str] | None,
        skip: Container[int] = _NO_CHUNKS,
    ) -> Iterator[Chunk]:
        check_chunk_rows(chunk_rows)
        names = check_columns(self._schema, columns, self._description)
        return rechunk(self._pieces(chunk_rows, names, skip), chunk_rows, skip)

    def _pieces(
        self, chunk_rows: int, names: list[str], skip: Container[int]
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        # Runs of consecutive row groups of one file that hold a chunk still to compute.
        runs: list[list[RowGroup]] = []
        for group in self._groups:
            first, last = group.start // chunk_rows, (group.stop - 1) // chunk_rows
            if all(i in skip for i in range(first, last + 1)):
                continue
            if runs and runs[-1][-1].file == group.file and runs[-1][-1].group + 1 == group.group:
                runs[-1].append(group)
            else:
                runs.append([group])
        for run in runs:
            file = self._files[run[0].file]
            try:
                with _readable(file) as readable:
                    reader = pq.ParquetFile(readable, buffer_size=_BUFFER_BYTES, pre_buffer=False)
                    row = run[0].start
                    for batch in reader.iter_batches(
                        batch_size=chunk_rows, row_groups=[g.group for g in run], columns=names
                    ):
                        yield row, batch
                        row += batch.num_rows
            except (OSError, pa.ArrowException) as exc:
                raise InvalidInputError(
                    f"cannot read Parquet file '{file}': {exc}", field="input"
                ) from exc


def _parquet_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if root.is_dir():
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.name.lower().endswith(PARQUET_SUFFIXES)
            and not any(part.startswith((".", "_")) for part in p.relative_to(root).parts)
        )
        if not files:
            raise InvalidInputError(
                f"directory '{root}' holds no Parquet files (*.parquet, *.pq)", field="input"
            )
        return files
    raise InvalidInputError(f"input file or directory not found: '{root}'", field="input")


def _open_parquet(file: Path | ObjectFile) -> pq.ParquetFile:
    try:
        if isinstance(file, ObjectFile):
            with file.open() as handle:  # the footer's metadata is read here and kept
                opened = pq.ParquetFile(handle)
                opened.metadata  # noqa: B018
                return opened
        return pq.ParquetFile(file)
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(f"cannot read Parquet file '{file}': {exc}", field="input") from exc


def _schema_difference(expected: pa.Schema, found: pa.Schema) -> str:
    for field in expected:
        if field.name not in found.names:
            return f"column {field.name!r} is missing"
        other = found.field(field.name)
        if not other.type.equals(field.type):
            return f"column {field.name!r} is {other.type}, not {field.type}"
    extra = [n for n in found.names if n not in expected.names]
    if extra:
        return f"extra column {extra[0]!r}"
    return "the column order differs"


# -- streams (CSV, remote datasets) -------------------------------------------------------


class StreamSource:
    """Chunks of a :class:`~mlcycle.datasets.reading.BatchStream`, read from its start
    (rows of finished chunks are read and dropped). Dictionary-encoded string columns are
    decoded back to strings."""

    def __init__(
        self,
        stream: BatchStream,
        fingerprint: Mapping[str, Any],
        *,
        description: str | None = None,
    ) -> None:
        self._stream = stream
        self._fingerprint = dict(fingerprint)
        self._description = description or f"input {stream.source!r}"
        self._schema = pa.schema([pa.field(f.name, _plain(f.type)) for f in stream.schema])

    @property
    def description(self) -> str:
        return self._description

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def num_rows(self) -> int | None:
        return self._stream.num_rows

    def fingerprint(self) -> dict[str, Any]:
        return dict(self._fingerprint)

    def chunks(
        self,
        *,
        chunk_rows: int,
        columns: Sequence[str] | None,
        skip: Container[int] = _NO_CHUNKS,
    ) -> Iterator[Chunk]:
        check_chunk_rows(chunk_rows)
        names = check_columns(self._schema, columns, self._description)
        return rechunk(self._pieces(names), chunk_rows, skip)

    def _pieces(self, names: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
        row = 0
        for batch in self._stream:
            selected = batch.select(names)
            arrays = [
                a.dictionary_decode() if pa.types.is_dictionary(a.type) else a
                for a in selected.columns
            ]
            yield row, pa.RecordBatch.from_arrays(arrays, names=names)
            row += batch.num_rows


def _plain(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def csv_source(path: str | Path) -> StreamSource:
    """A CSV file (``.csv``, ``.csv.gz``, ``.csv.bz2``), parsed in streaming mode; types
    are inferred from its first block of a few MiB."""
    file = Path(path)
    stream = open_batches(file)
    return StreamSource(stream, {"csv": _file_stat(file)}, description=f"CSV file '{file}'")


def open_source(path: str | Path) -> ChunkSource:
    """The source for a Parquet file, a directory of Parquet files, or a CSV file.

    Raises InvalidInputError naming the path when it is missing or of another type.
    """
    file = Path(path)
    name = file.name.lower()
    if file.is_dir() or (file.is_file() and name.endswith(PARQUET_SUFFIXES)):
        return ParquetSource(file)
    if file.is_file() and name.endswith(CSV_SUFFIXES):
        return csv_source(file)
    if not file.exists():
        raise InvalidInputError(f"input file or directory not found: '{file}'", field="input")
    raise InvalidInputError(
        f"unsupported input file '{file}': expected a Parquet file ("
        f"{', '.join(PARQUET_SUFFIXES)}), a directory of them, or a CSV file "
        f"({', '.join(CSV_SUFFIXES)})",
        field="input",
    )
