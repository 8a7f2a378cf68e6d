"""Turn user data into a re-iterable stream of Arrow record batches plus its schema.

Accepted inputs: a pandas DataFrame, a pyarrow Table or RecordBatch, or a path (``str`` or
``pathlib.Path``) to a Parquet (``.parquet``, ``.pq``) or CSV (``.csv``, ``.csv.gz``,
``.csv.bz2``) file. Files are read batch by batch, so memory is bounded by the batch size;
CSV is parsed with ``pyarrow.csv`` in streaming mode (types are inferred from the first
block of a few MiB; pass ``csv_column_types`` when a column changes type further down).

Every problem with the input raises :class:`~mlcycle.errors.InvalidInputError`: a missing,
unreadable or corrupt file (naming the path), an unsupported type (naming it), a table
without rows or columns, duplicate column names, and pandas ``object`` columns mixing
Python types (all such columns are reported in one message).

    >>> import pandas as pd
    >>> stream = open_batches(pd.DataFrame({"x": [1, 2, 3]}), batch_rows=2)
    >>> [batch.num_rows for batch in stream]
    [2, 1]
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias, TypeVar

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets.schema import is_string_type
from mlcycle.errors import InvalidInputError

DEFAULT_BATCH_ROWS = 65_536
# Bigger CSV blocks give type inference more rows to look at; memory stays bounded.
_CSV_BLOCK_BYTES = 4 << 20
_PARQUET_BUFFER_BYTES = 1 << 20
_PARQUET_SUFFIXES = (".parquet", ".pq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2")

T = TypeVar("T")


class BatchStream:
    """A re-iterable stream of record batches with a known schema.

    Each ``iter()`` starts from the first row again (files are re-opened), so a consumer
    needing two passes can make them. ``num_rows`` is ``None`` when only a full read could
    tell (CSV).
    """

    def __init__(
        self,
        schema: pa.Schema,
        open_iter: Callable[[], Iterator[pa.RecordBatch]],
        *,
        num_rows: int | None,
        source: str,
        stored_schema: pa.Schema | None = None,
    ) -> None:
        self.schema = schema
        self.num_rows = num_rows
        self.source = source
        # The schema of the data as stored; differs from ``schema`` only for string columns
        # read as dictionaries (``open_batches(..., strings_as_dictionary=True)``).
        self.stored_schema = stored_schema if stored_schema is not None else schema
        self._open_iter = open_iter

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self._open_iter()

    def __repr__(self) -> str:
        return f"BatchStream(source={self.source!r}, columns={len(self.schema)})"

    def prefetched(self, depth: int = 2) -> Iterator[pa.RecordBatch]:
        """Iterate while a background thread reads up to ``depth`` batches ahead.

        Decoding (Arrow, GIL released) then overlaps with the consumer's computation.
        """
        return prefetch(iter(self), depth)

    def read_all(self) -> pa.Table:
        """Materialise the whole stream as one Table (not bounded in memory)."""
        return pa.Table.from_batches(list(self), schema=self.schema)


DataLike: TypeAlias = (
    "pd.DataFrame | pa.Table | pa.RecordBatch | str | os.PathLike[str] | BatchStream"
)


def open_batches(
    data: DataLike,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    columns: Sequence[str] | None = None,
    csv_column_types: Mapping[str, pa.DataType] | None = None,
    strings_as_dictionary: bool = False,
) -> BatchStream:
    """Open ``data`` as a :class:`BatchStream` of batches of at most ``batch_rows`` rows.

    ``columns`` selects (and orders) a subset of the columns; for Parquet and CSV only those
    are decoded. ``strings_as_dictionary`` reads Parquet string columns as dictionary arrays,
    several times cheaper for repetitive strings (``stream.stored_schema`` keeps the types
    as stored). A DataFrame is converted to Arrow once, up front; a ``BatchStream`` passed
    in is returned as it is.

    >>> import pyarrow as pa
    >>> open_batches(pa.table({"a": [1], "b": ["x"]}), columns=["b"]).schema.names
    ['b']
    """
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise InvalidInputError(
            f"batch_rows must be a positive integer, got {batch_rows!r}", field="batch_rows"
        )
    if isinstance(data, BatchStream):
        return data if columns is None else _select_stream(data, list(columns), batch_rows)
    if isinstance(data, pd.DataFrame):
        return _table_stream(table_from_pandas(data), batch_rows, columns, "DataFrame")
    if isinstance(data, pa.RecordBatch):
        return _table_stream(pa.Table.from_batches([data]), batch_rows, columns, "RecordBatch")
    if isinstance(data, pa.Table):
        return _table_stream(data, batch_rows, columns, "Table")
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        name = path.name.lower()
        if not path.is_file():
            raise InvalidInputError(f"file not found: '{path}'", field="data")
        if name.endswith(_PARQUET_SUFFIXES):
            return _parquet_stream(path, batch_rows, columns, strings_as_dictionary)
        if name.endswith(_CSV_SUFFIXES):
            return _csv_stream(path, batch_rows, columns, csv_column_types)
        raise InvalidInputError(
            f"unsupported file type '{path}': expected one of "
            f"{', '.join(_PARQUET_SUFFIXES + _CSV_SUFFIXES)}",
            field="data",
        )
    raise InvalidInputError(
        f"unsupported data type {type(data).__module__}.{type(data).__qualname__}: expected a "
        "pandas DataFrame, a pyarrow Table or the path of a Parquet or CSV file",
        field="data",
    )


def read_table(data: DataLike, *, columns: Sequence[str] | None = None) -> pa.Table:
    """Read ``data`` fully into one Table (same checks as :func:`open_batches`).

    >>> import pandas as pd
    >>> read_table(pd.DataFrame({"a": [1.5]})).num_rows
    1
    """
    if isinstance(data, pa.Table):
        _check_table(data, "Table")
        return data if columns is None else data.select(_check_columns(data.schema, columns))
    return open_batches(data, columns=columns).read_all()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield from ``items`` while a daemon thread produces up to ``depth`` items ahead.

    Errors raised by the producer are re-raised in the consumer; closing the generator
    stops the producer after its current item.
    """
    slots: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: tuple[int, object]) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((0, item)):
                    return
            put((1, None))
        except BaseException as exc:  # handed over to the consumer, which re-raises it
            put((2, exc))

    thread = threading.Thread(target=produce, name="mlcycle-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == 1:
                return
            if kind == 2:
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]  # items of kind 0 are the producer's T values
    finally:
        stop.set()
        thread.join()


def table_from_pandas(df: pd.DataFrame) -> pa.Table:
    """Convert a DataFrame (index dropped), refusing object columns that mix types.

    >>> import pandas as pd
    >>> table_from_pandas(pd.DataFrame({"a": [1, 2]})).schema.names
    ['a']
    """
    names = [str(c) for c in df.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInputError(
            f"duplicate column names: {', '.join(map(repr, duplicated))}", field="columns"
        )
    problems = []
    for name in df.columns:
        column = df[name]
        if column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in (
            "mixed",
            "mixed-integer",
        ):
            # Rare path (pandas saw mixed values): a Python loop to name the types.
            kinds = sorted({type(v).__name__ for v in column.dropna()})
            if len(kinds) > 1:
                problems.append(f"column '{name}' mixes types {_join(kinds)}")
    if problems:
        raise InvalidInputError(
            "; ".join(problems), field=",".join(p.split("'")[1] for p in problems)
        )
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(f"cannot convert DataFrame to Arrow: {exc}", field="data") from exc


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _check_table(table: pa.Table, what: str) -> None:
    _check_shape(table.schema, table.num_rows, what)


def _check_shape(schema: pa.Schema, num_rows: int | None, what: str) -> None:
    if len(schema) == 0:
        raise InvalidInputError(f"{what} has no columns", field="data")
    names = schema.names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInputError(
            f"{what} has duplicate column names: {', '.join(map(repr, duplicated))}",
            field="columns",
        )
    if num_rows == 0:
        raise InvalidInputError(f"{what} has no rows", field="data")


def _check_columns(schema: pa.Schema, columns: Sequence[str]) -> list[str]:
    wanted = list(columns)
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise InvalidInputError(
            f"unknown column(s) {', '.join(map(repr, missing))}; available: {schema.names}",
            field="columns",
        )
    if not wanted:
        raise InvalidInputError("columns must name at least one column", field="columns")
    return wanted


def _table_stream(
    table: pa.Table, batch_rows: int, columns: Sequence[str] | None, what: str
) -> BatchStream:
    _check_table(table, what)
    if columns is not None:
        table = table.select(_check_columns(table.schema, columns))

    def open_iter() -> Iterator[pa.RecordBatch]:
        return iter(table.to_batches(max_chunksize=batch_rows))

    return BatchStream(table.schema, open_iter, num_rows=table.num_rows, source=what)


def _select_stream(stream: BatchStream, columns: list[str], batch_rows: int) -> BatchStream:
    names = _check_columns(stream.schema, columns)
    schema = pa.schema([stream.schema.field(n) for n in names])

    def open_iter() -> Iterator[pa.RecordBatch]:
        for batch in stream:
            yield from pa.Table.from_batches([batch.select(names)]).to_batches(batch_rows)

    return BatchStream(schema, open_iter, num_rows=stream.num_rows, source=stream.source)


def _parquet_stream(
    path: Path, batch_rows: int, columns: Sequence[str] | None, strings_as_dictionary: bool
) -> BatchStream:
    try:
        meta = pq.ParquetFile(path)
        stored = meta.schema_arrow
        num_rows = int(meta.metadata.num_rows)
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(f"cannot read Parquet file '{path}': {exc}", field="data") from exc
    _check_shape(stored, num_rows, f"Parquet file '{path}'")
    names = None if columns is None else _check_columns(stored, columns)
    if names is not None:
        stored = pa.schema([stored.field(n) for n in names])
    as_dict = [f.name for f in stored if strings_as_dictionary and is_string_type(f.type)]
    schema = stored
    if as_dict:
        read_as = pq.ParquetFile(path, read_dictionary=as_dict).schema_arrow
        schema = pa.schema([read_as.field(f.name) for f in stored])

    def open_iter() -> Iterator[pa.RecordBatch]:
        try:
            # Buffered streaming reads: with pre-buffering, Arrow fetches the byte ranges of
            # every row group ahead, and memory grows with the file instead of the batch.
            reader = pq.ParquetFile(
                path,
                read_dictionary=as_dict or None,
                buffer_size=_PARQUET_BUFFER_BYTES,
                pre_buffer=False,
            )
            yield from reader.iter_batches(batch_size=batch_rows, columns=names)
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInputError(
                f"cannot read Parquet file '{path}': {exc}", field="data"
            ) from exc

    return BatchStream(schema, open_iter, num_rows=num_rows, source=str(path), stored_schema=stored)


def _csv_stream(
    path: Path,
    batch_rows: int,
    columns: Sequence[str] | None,
    column_types: Mapping[str, pa.DataType] | None,
) -> BatchStream:
    def open_reader(include: Sequence[str] | None) -> pacsv.CSVStreamingReader:
        return pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(
                column_types=dict(column_types or {}),
                include_columns=list(include or []),
                strings_can_be_null=True,  # like pandas: an empty field is missing
            ),
        )

    what = f"CSV file '{path}'"
    try:
        # Peek at the first non-empty batch: the schema and the "no rows" check need it.
        reader = open_reader(None)
        schema = reader.schema
        has_rows = any(batch.num_rows for batch in _first_batches(reader))
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(f"cannot read {what}: {exc}", field="data") from exc
    _check_shape(schema, None if has_rows else 0, what)
    names = None if columns is None else _check_columns(schema, columns)
    if names is not None:
        schema = pa.schema([schema.field(n) for n in names])

    def open_iter() -> Iterator[pa.RecordBatch]:
        try:
            for block in open_reader(names):
                # CSV blocks are sized in bytes; slice them to honour batch_rows.
                for start in range(0, block.num_rows, batch_rows):
                    yield block.slice(start, batch_rows)
        except (OSError, pa.ArrowException) as exc:
            raise InvalidInputError(
                f"cannot read {what}: {exc} (if a column changes type after the first "
                "block, pass csv_column_types)",
                field="data",
            ) from exc

    return BatchStream(schema, open_iter, num_rows=None, source=str(path))


def _first_batches(reader: pacsv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    for batch in reader:
        yield batch
        if batch.num_rows:
            return
