"""A batch prediction job: chunks in, predictions out, resumable.

The flow of :func:`run_batch`::

    source.chunks() --> executor.map(predict + write part) --> in-order assembly
     (only chunks not       (workers; each finished chunk       (ParquetWriter into a
      finished before)       saved to <output>.parts/)           temp file, renamed at
                                                                 the end; parts removed)

Three things overlap: a reader thread decodes the next chunks (up to ``READ_AHEAD``), the
executor's workers predict (and save parts), and the caller's thread writes the output.
With an executor whose workers are other processes or Ray tasks
(``executor.reads_in_workers``) and Parquet input, the driver reads nothing: it sends each
worker a :class:`~mlcycle.batch.slices.ChunkSlice` (file, row groups, rows) and the worker
reads its chunk straight from the file or the bucket.

An ``s3://bucket/prefix`` output is partitioned Parquet written by the workers themselves
(:mod:`mlcycle.batch.bucket_parts`): one part per chunk, no assembly, resumable the same
way (parts already in the bucket are skipped).
Only a few chunks are in memory at any time, whatever the input's size. When the job is
interrupted (Ctrl-C, ``kill -9``, a model error), the parts already written stay; a new
run with the same model, input, chunk size and options computes only the others and
assembles the output in input order.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,unused-ignore]

from mlcycle.batch.bucket_parts import BucketParts, is_bucket_uri
from mlcycle.batch.executors import Executor
from mlcycle.batch.parts import PartStore
from mlcycle.batch.predictor import ChunkPredictor
from mlcycle.batch.results import (
    DEFAULT_CHUNK_ROWS,
    METADATA_PREFIX,
    BatchResult,
    ModelIdentity,
    Progress,
)
from mlcycle.batch.slices import ChunkSlice, parquet_slices
from mlcycle.batch.sources import Chunk, ChunkSource, ParquetSource
from mlcycle.datasets.reading import prefetch
from mlcycle.errors import InvalidInputError, MlcycleError, PredictionFailedError
from mlcycle.models.loaded import LoadedModel

READ_AHEAD = 2  # chunks decoded ahead of the executor


def run_batch(
    model: LoadedModel,
    identity: ModelIdentity,
    source: ChunkSource,
    output: str | os.PathLike[str],
    *,
    executor: Executor,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    keep: Sequence[str] = (),
    probabilities: bool | None = None,
    model_columns: bool = False,
    restart: bool = False,
    progress: Progress | None = None,
    explain: bool = False,
) -> BatchResult:
    """Predict every row of ``source`` with ``model`` into the Parquet file ``output`` (or
    the partitioned Parquet output ``s3://bucket/prefix``).

    Resumes a job interrupted earlier when the model, input, ``chunk_rows`` and output
    options are the same (ConflictError otherwise, unless ``restart``). Raises
    InvalidInputError for input that does not fit the model's signature (before anything
    is written) and PredictionFailedError when the model raises.
    """
    started = time.perf_counter()
    bucket = is_bucket_uri(output)
    target = Path(output)
    if not bucket:
        _check_output(target)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidInputError(
            f"chunk_rows must be a positive integer, got {chunk_rows!r}", field="chunk_rows"
        )
    predictor = ChunkPredictor(
        model,
        source.schema,
        keep=keep,
        probabilities=probabilities,
        constants=_model_columns(identity) if model_columns else None,
        explain=explain,
    )
    manifest = {
        "input": source.fingerprint(),
        "model": {"uri": identity.uri, "version": identity.version, "digest": identity.digest},
        "chunk_rows": chunk_rows,
        "output": {
            "keep": predictor.keep,
            "probabilities": predictor.probabilities,
            "model_columns": model_columns,
            "explain": explain,
        },
    }
    report = progress or _no_progress
    if bucket:
        return _run_to_bucket(
            predictor,
            identity,
            source,
            str(output),
            manifest,
            executor=executor,
            chunk_rows=chunk_rows,
            restart=restart,
            report=report,
            started=started,
        )
    parts = PartStore(target)
    finished = parts.open(manifest, restart=restart)
    done_rows = sum(finished.values())
    report(done_rows, source.num_rows)

    # Workers in other processes (or on Ray) send back only each chunk's number: the
    # driver reads the part they saved (memory-mapped) instead of unpickling its rows.
    remote = getattr(executor, "reads_in_workers", False)
    work: ChunkWork | ChunkToParts = (
        ChunkToParts(predictor, parts, source.description)
        if remote
        else ChunkWork(predictor, parts, source.description)
    )
    chunks = _work_items(source, executor, chunk_rows, predictor.columns, finished)
    writer = _Assembler(target, parts.temp_output, identity.metadata(), source.description)
    computed = 0
    limits = threadpool_limits(limits=native_threads(executor.workers))
    try:
        for done in executor.map(work, chunks):
            for index, result in done:
                table = parts.read(index) if isinstance(result, int) else result
                writer.write_finished_before(index, parts, finished)
                writer.write(table)
                computed += 1
                done_rows += table.num_rows
                report(done_rows, source.num_rows)
        writer.write_finished_before(None, parts, finished)
        columns = writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        chunks.close()  # stops the reader thread
        limits.restore_original_limits()
    parts.remove()
    return BatchResult(
        output=target,
        rows=writer.rows,
        chunks=computed + len(finished),
        computed_chunks=computed,
        resumed_chunks=len(finished),
        model=identity,
        columns=columns,
        seconds=time.perf_counter() - started,
        uses_numpy=predictor.uses_numpy,
    )


def _run_to_bucket(
    predictor: ChunkPredictor,
    identity: ModelIdentity,
    source: ChunkSource,
    output: str,
    manifest: Mapping[str, object],
    *,
    executor: Executor,
    chunk_rows: int,
    restart: bool,
    report: Progress,
    started: float,
) -> BatchResult:
    """The job with an ``s3://`` output: workers write the parts into the bucket, which
    are the output; nothing is assembled."""
    metadata = dict(identity.metadata())
    metadata[f"{METADATA_PREFIX}input"] = source.description
    parts = BucketParts(output, metadata=metadata)
    finished = parts.open(manifest, restart=restart)
    done_rows = sum(finished.values())
    report(done_rows, source.num_rows)
    work = ChunkToParts(predictor, parts, source.description)
    items = _work_items(source, executor, chunk_rows, predictor.columns, finished)
    computed = 0
    limits = threadpool_limits(limits=native_threads(executor.workers))
    try:
        for done in executor.map(work, items):
            for _, rows in done:
                computed += 1
                done_rows += rows
                report(done_rows, source.num_rows)
    finally:
        items.close()
        limits.restore_original_limits()
    if computed + len(finished) == 0:
        raise InvalidInputError("the input has no rows to predict", field="input")
    columns = parts.columns()
    parts.complete({"rows": done_rows, "chunks": computed + len(finished)})
    return BatchResult(
        output=parts.uri,
        rows=done_rows,
        chunks=computed + len(finished),
        computed_chunks=computed,
        resumed_chunks=len(finished),
        model=identity,
        columns=columns,
        seconds=time.perf_counter() - started,
        uses_numpy=predictor.uses_numpy,
    )


def _work_items(
    source: ChunkSource,
    executor: Executor,
    chunk_rows: int,
    columns: Sequence[str],
    finished: Mapping[int, int],
) -> Generator[Chunk | ChunkSlice, None, None]:
    """What the executor maps over: slices its workers read themselves when they are
    other processes or Ray tasks and the input is Parquet; else chunks that a reader
    thread decodes ahead (Arrow releases the GIL) while the workers predict."""
    if getattr(executor, "reads_in_workers", False) and isinstance(source, ParquetSource):
        yield from parquet_slices(source, chunk_rows=chunk_rows, columns=columns, skip=finished)
        return
    yield from _read_ahead(source.chunks(chunk_rows=chunk_rows, columns=columns, skip=finished))


class ChunkWork:
    """Predicts one chunk and saves it as a part; picklable, so the chunks of a job can
    run in other processes or on Ray workers (which save their parts themselves). A
    :class:`~mlcycle.batch.slices.ChunkSlice` (one chunk or several that share a row group)
    is read first, where the work runs. Returns ``(chunk number, output rows)`` per chunk."""

    def __init__(
        self, predictor: ChunkPredictor, parts: PartStore | BucketParts, description: str
    ) -> None:
        self.predictor = predictor
        self.parts = parts
        self.description = description

    def __call__(self, item: Chunk | ChunkSlice) -> list[tuple[int, pa.Table]]:
        chunks = item.read_chunks() if isinstance(item, ChunkSlice) else (item,)
        return [self.one(chunk) for chunk in chunks]

    def one(self, chunk: Chunk) -> tuple[int, pa.Table]:
        table = self.predict(chunk)
        self.parts.write(chunk.index, table)
        return chunk.index, table

    def predict(self, chunk: Chunk) -> pa.Table:
        try:
            return self.predictor(chunk.data)
        except MlcycleError:
            raise
        except Exception as exc:  # the model's own failure, reported with its chunk
            raise PredictionFailedError(
                f"the model failed on chunk {chunk.index} (rows {chunk.start}-"
                f"{chunk.stop - 1}) of {self.description}: {type(exc).__name__}: {exc}",
                chunk=chunk.index,
                rows=(chunk.start, chunk.stop - 1),
            ) from exc


class ChunkToParts:
    """A :class:`ChunkWork` whose saved part is what the driver uses (a local part it reads
    back, or the bucket's part that is the output): only the chunk's number and row count
    travel back to the driver."""

    def __init__(
        self, predictor: ChunkPredictor, parts: PartStore | BucketParts, description: str
    ) -> None:
        self.work = ChunkWork(predictor, parts, description)

    def __call__(self, item: Chunk | ChunkSlice) -> list[tuple[int, int]]:
        chunks = item.read_chunks() if isinstance(item, ChunkSlice) else (item,)
        done = []
        for chunk in chunks:  # one output table in memory at a time
            index, table = self.work.one(chunk)
            done.append((index, int(table.num_rows)))
        return done


def native_threads(workers: int) -> int:
    """Threads each native thread pool (BLAS, OpenMP) may use during a job: the cores
    shared by the workers and the reader/writer threads. Without this limit, every worker's
    BLAS call starts a thread per core: on 2 cores under load, chunked predictions of a
    linear model ran 4x slower than with one BLAS thread."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // (workers + 1))


def _model_columns(identity: ModelIdentity) -> dict[str, pa.Scalar]:
    return {
        "model_name": pa.scalar(identity.name, pa.string()),
        "model_version": pa.scalar(identity.version, pa.int64()),
        "model_uri": pa.scalar(identity.uri, pa.string()),
    }


def _read_ahead(chunks: Iterator[Chunk]) -> Generator[Chunk, None, None]:
    """``chunks`` read by a thread ahead of the consumer; closing this stops the thread."""
    yield from prefetch(chunks, READ_AHEAD)


def _no_progress(done: int, total: int | None) -> None:
    return None


def _check_output(target: Path) -> None:
    if target.is_dir():
        raise InvalidInputError(
            f"output '{target}' is a directory; give the path of a Parquet file", field="output"
        )
    if not target.parent.is_dir():
        raise InvalidInputError(
            f"the folder of output '{target}' does not exist: create it first", field="output"
        )


class _Assembler:
    """Writes output tables, in input order, into a temporary Parquet file renamed to the
    output at the end (readers never see half a file)."""

    def __init__(self, target: Path, temp: Path, metadata: Mapping[str, str], what: str) -> None:
        self.target = target
        self.temp = temp
        self.metadata = dict(metadata)
        self.metadata[f"{METADATA_PREFIX}input"] = what
        self.rows = 0
        self._next = 0  # the first finished chunk not written yet
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write_finished_before(
        self, index: int | None, parts: PartStore, finished: Mapping[int, int]
    ) -> None:
        """Write the chunks finished by an earlier run that come before chunk ``index``
        (all the remaining ones when None)."""
        for part in _ordered_from(finished, self._next, index):
            self.write(parts.read(part))
            self._next = part + 1
        if index is not None:
            self._next = max(self._next, index + 1)

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._schema = table.schema.with_metadata(self.metadata)
            # Dictionary encoding pays for labels and IDs, not for probabilities: on random
            # floats it only burns time before falling back (2.5x slower writes).
            encode = [f.name for f in self._schema if not pa.types.is_floating(f.type)]
            self._writer = pq.ParquetWriter(
                str(self.temp), self._schema, compression="snappy", use_dictionary=encode
            )
        assert self._schema is not None
        if not table.schema.equals(self._schema, check_metadata=False):
            table = _conform(table, self._schema)
        self._writer.write_table(table.replace_schema_metadata(self.metadata))
        self.rows += table.num_rows

    def commit(self) -> tuple[str, ...]:
        if self._writer is None or self._schema is None:
            raise InvalidInputError("the input has no rows to predict", field="input")
        self._writer.close()
        os.replace(self.temp, self.target)
        return tuple(self._schema.names)

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self._writer.close()
        self.temp.unlink(missing_ok=True)


def _ordered_from(finished: Mapping[int, int], start: int, stop: int | None) -> Iterator[int]:
    return iter(sorted(i for i in finished if i >= start and (stop is None or i < stop)))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` cast to the output's schema (the first chunk's), e.g. when a chunk's
    predictions came out as another integer width."""
    if table.schema.names != schema.names:
        raise InvalidInputError(
            f"the model's output columns changed between chunks: {table.schema.names} "
            f"instead of {schema.names}",
            field="model",
        )
    try:
        return table.cast(schema.remove_metadata())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"the model's output types changed between chunks: {exc}", field="model"
        ) from exc
