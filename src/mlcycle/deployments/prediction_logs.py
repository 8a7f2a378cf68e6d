"""The prediction log: what a deployment was asked, what it answered, by which version.

Serving appends through :class:`PredictionLogWriter`: ``append`` puts one entry (a batch of
answered rows) on a bounded in-memory queue and returns at once; a background thread writes
Parquet files every ``flush_rows`` rows or ``flush_interval_s`` seconds, and on ``close``.
A full queue drops the entry and counts the dropped rows (``dropped``): the request path
never waits on disk. Files go through the artifact store (a local folder or an ``s3://``
bucket, where DuckDB or pyarrow can read them in place), under::

    prediction-logs/deployment=<name>/hour=<YYYYMMDDHH>/part-<id>.parquet

One row per predicted input row, with the columns

=================  ==============================================================
``time``           timestamp (ms, UTC) when the request arrived
``request_id``     string; the ``x-request-id`` of the request
``row``            int32; the row's index within its request
``deployment``     string; the deployment (or the served model's name)
``model``          string; the registered model's name (or the model's label)
``version``        int32; the registered version, null for models outside the registry
``arm``            string; the deployment arm that answered (or ran in shadow)
``latency_ms``     float64; from arrival to prediction, server side
``prediction``     the model's output for the row (its native type)
``proba.<class>``  float64 per class, for classifiers
``input.<name>``   one column per input feature, in its native type
``shap.<name>``    float64 per input feature: its SHAP value, for rows answered by
                   ``/explain`` with ``log_explanation`` (absent otherwise)
=================  ==============================================================

Read it back with :func:`read_prediction_log` (``mlcycle.deployments.prediction_logs``):
only the hour partitions in range are opened, and files with different columns (two model
versions, say) are unified.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from mlcycle.artifacts import open_artifact_store
from mlcycle.errors import InvalidInputError
from mlcycle.ids import new_id
from mlcycle.ports.artifacts import ArtifactStore
from mlcycle.ports.prediction_logs import PredictionLogs

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

LOG_DIR = "prediction-logs"
BASE_COLUMNS = (
    "time",
    "request_id",
    "row",
    "deployment",
    "model",
    "version",
    "arm",
    "latency_ms",
    "prediction",
)
_HOUR_MS = 3_600_000
#: How often the writer thread turns queued entries into Arrow tables (see ``_stage``).
STAGE_INTERVAL_S = 0.1
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(slots=True, kw_only=True)
class RequestSpan:
    """One answered request inside a :class:`LogEntry`: its rows are ``start:stop``."""

    request_id: str
    time_ms: int
    start: int
    stop: int
    latency_ms: float


@dataclass(slots=True, kw_only=True)
class LogEntry:
    """A batch of predictions of one arm, with the requests (sampled) that are logged.

    ``columns`` and ``predictions`` cover every row of the batch; only the rows of
    ``requests`` are written.
    """

    deployment: str
    model: str
    version: int | None
    arm: str
    columns: Mapping[str, np.ndarray]
    predictions: np.ndarray
    requests: Sequence[RequestSpan]
    proba: np.ndarray | None = None
    classes: Sequence[Any] | None = None
    attributions: Mapping[str, np.ndarray] | None = None

    @property
    def rows(self) -> int:
        return sum(r.stop - r.start for r in self.requests)


#: Where the log is: an artifact root (a local folder, ``file://`` or ``s3://`` URI), an
#: artifact store already open, or any :class:`PredictionLogs` (a server's, say).
LogRoot = str | os.PathLike[str] | ArtifactStore | PredictionLogs


def log_store(root: str | os.PathLike[str] | ArtifactStore) -> ArtifactStore:
    """The artifact store of ``root`` (no I/O)."""
    if isinstance(root, str | os.PathLike):
        return open_artifact_store(os.fspath(root))
    return root


def prediction_logs(root: LogRoot) -> PredictionLogs:
    """The :class:`PredictionLogs` of ``root``: as given, or over its artifact store."""
    if isinstance(root, PredictionLogs):
        return root
    return StoredPredictionLogs(log_store(root))


def deployment_prefix(deployment: str) -> str:
    """The key prefix of a deployment's prediction log in the artifact store."""
    return f"{LOG_DIR}/deployment={quote(deployment, safe='')}"


def has_prediction_log(artifact_root: LogRoot, deployment: str) -> bool:
    """Whether anything was ever logged for ``deployment`` under ``artifact_root``."""
    return prediction_logs(artifact_root).exists(deployment)


def deployment_dir(artifact_root: str | os.PathLike[str], deployment: str) -> Path:
    """The local folder holding a deployment's prediction log (a local root only)."""
    root = os.fspath(artifact_root)
    if root.startswith("file://"):
        root = root[len("file://") :]
    elif "://" in root:
        raise InvalidInputError(
            f"the prediction log is kept under a local artifact root for now; {root!r} is "
            "not one (set MLCYCLE_ARTIFACT_URI to a directory for serving processes)",
            field="artifact_uri",
        )
    return Path(root).expanduser() / LOG_DIR / f"deployment={quote(deployment, safe='')}"


class PredictionLogWriter:
    """The bounded queue and the background thread writing it to Parquet.

    >>> writer = PredictionLogWriter("/tmp/artifacts")  # doctest: +SKIP
    >>> writer.append(entry)  # never blocks; False when the queue is full  # doctest: +SKIP
    >>> writer.close()  # writes what is queued  # doctest: +SKIP
    """

    def __init__(
        self,
        artifact_root: LogRoot,
        *,
        max_queued_rows: int = 200_000,
        flush_rows: int = 10_000,
        flush_interval_s: float = 5.0,
    ) -> None:
        if max_queued_rows < 1 or flush_rows < 1 or flush_interval_s <= 0:
            raise InvalidInputError(
                "prediction log limits must be positive", field="prediction_log"
            )
        self.artifact_root = artifact_root
        self.logs = prediction_logs(artifact_root)
        self.max_queued_rows = max_queued_rows
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        self.dropped = 0  # rows dropped because the queue was full
        self.written = 0  # rows written to files
        self.errors = 0  # failed writes (their rows are counted in dropped)
        self._queue: deque[LogEntry] = deque()
        self._queued_rows = 0
        self._wake = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        # Arrow tables built from taken entries, by (deployment, hour), not yet written;
        # ``_io`` keeps the thread's staging and a caller's ``flush`` apart
        self._io = threading.Lock()
        self._staged: dict[tuple[str, str], list[pa.Table]] = {}
        self._staged_rows = 0
        self._staged_since: float | None = None

    def start(self) -> None:
        """Start the writer thread (``append`` starts it too)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="mlcycle-prediction-log", daemon=True
            )
            self._thread.start()

    def append(self, entry: LogEntry) -> bool:
        """Queue ``entry``; returns False (and counts the rows as dropped) when full."""
        rows = entry.rows
        if rows == 0:
            return True
        if self._thread is None:
            self.start()
        with self._wake:
            if self._closed or self._queued_rows + rows > self.max_queued_rows:
                self.dropped += rows
                return False
            self._queue.append(entry)
            self._queued_rows += rows
            if self._queued_rows >= self.flush_rows:
                self._wake.notify()
        return True

    def flush(self) -> None:
        """Write everything queued now, in the caller's thread."""
        with self._io:
            self._stage(self._take())
            self._write_staged()

    def close(self) -> None:
        """Stop the thread after writing what is queued."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.flush()

    def _take(self) -> list[LogEntry]:
        with self._wake:
            entries = list(self._queue)
            self._queue.clear()
            self._queued_rows = 0
        return entries

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._closed and self._queued_rows < self.flush_rows:
                    self._wake.wait(min(STAGE_INTERVAL_S, self.flush_interval_s))
                closed = self._closed
            with self._io:
                self._stage(self._take())
                due = self._staged_since is not None and (
                    time.monotonic() - self._staged_since >= self.flush_interval_s
                )
                if closed or due or self._staged_rows >= self.flush_rows:
                    self._write_staged()
            if closed:
                return

    def _stage(self, entries: list[LogEntry]) -> None:
        """Turn ``entries`` into Arrow tables, kept until the next write. The thread does
        this every ``STAGE_INTERVAL_S`` rather than all at once before a write: building
        the tables is Python work that holds the GIL, and a whole flush's worth at once
        (10,000 one-row requests, say) would stall the serving event loop for a tenth of
        a second."""
        if not entries:
            return
        for key, parts in _group(entries).items():
            try:
                table = _table(parts)
            except Exception:  # a value pyarrow cannot store: drop these rows, keep going
                self.errors += 1
                self.dropped += sum(s.stop - s.start for _, spans, _ in parts for s in spans)
                continue
            self._staged.setdefault((key[0], key[1]), []).append(table)
            self._staged_rows += table.num_rows
            if self._staged_since is None:
                self._staged_since = time.monotonic()

    def _write_staged(self) -> None:
        staged, self._staged = self._staged, {}
        self._staged_rows, self._staged_since = 0, None
        for (deployment, hour), tables in staged.items():
            rows = sum(t.num_rows for t in tables)
            try:
                _write_file(self.logs, deployment, hour, tables)
                self.written += rows
            except Exception:
                self.errors += 1
                self.dropped += rows


def _write_file(logs: PredictionLogs, deployment: str, hour: str, tables: list[Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables(tables, promote_options="permissive")
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    logs.write(deployment, hour, sink.getvalue().to_pybytes())


#: (entry, its logged requests in one hour, the rows of those requests in the entry)
_Part = tuple[LogEntry, list[RequestSpan], np.ndarray]
_ALL = np.arange(0)  # marks "every row of the entry" (compared by identity)


def _group(entries: list[LogEntry]) -> dict[tuple[Any, ...], list[_Part]]:
    """The logged rows of ``entries`` by deployment, hour and everything that shapes a
    table (model, version, arm, columns, classes), so each group becomes one table: a
    server under load queues many small entries, and one table per entry would cost more
    than the predictions did."""
    groups: dict[tuple[Any, ...], list[_Part]] = {}
    for entry in entries:
        by_hour: dict[int, list[RequestSpan]] = {}
        for span in entry.requests:
            by_hour.setdefault(span.time_ms // _HOUR_MS, []).append(span)
        classes = (
            tuple(entry.classes) if entry.proba is not None and entry.classes is not None else None
        )
        shape = (
            entry.model,
            entry.version,
            entry.arm,
            tuple(entry.columns),
            classes,
            np.asarray(entry.predictions).ndim,
            None if entry.attributions is None else tuple(entry.attributions),
        )
        everything = len(by_hour) == 1 and len(entry.requests) > 0
        if everything:  # the common case: every row logged, no need to pick them
            everything = sum(s.stop - s.start for s in entry.requests) == len(entry.predictions)
        for hour, spans in by_hour.items():
            if everything:
                index = _ALL
            else:
                index = np.concatenate([np.arange(s.start, s.stop) for s in spans])
            key = (entry.deployment, _hour(hour * _HOUR_MS), *shape)
            groups.setdefault(key, []).append((entry, spans, index))
    return groups


def _table(parts: list[_Part]) -> Any:
    """One Arrow table of the rows of ``parts`` (which share their shape)."""
    import pyarrow as pa

    entries = [entry for entry, _, _ in parts]
    first = entries[0]
    spans = [span for _, group, _ in parts for span in group]
    counts = np.array([s.stop - s.start for s in spans])
    total = int(counts.sum())
    indices = [index for _, _, index in parts]
    every = all(index is _ALL for index in indices)

    def gather(arrays: list[Any]) -> np.ndarray:
        # one C-level concatenation of the entries' arrays: a flush of a busy server
        # holds thousands of one-row entries, and Python work per entry and column
        # would hold the GIL long enough to stall the event loop
        if not every:
            arrays = [
                a if index is _ALL else np.asarray(a)[index]
                for a, index in zip(arrays, indices, strict=True)
            ]
        return np.asarray(arrays[0]) if len(arrays) == 1 else np.concatenate(arrays)

    data: dict[str, Any] = {
        "time": pa.array(
            np.repeat(np.array([s.time_ms for s in spans], np.int64), counts),
            pa.timestamp("ms", "UTC"),
        ),
        "request_id": pa.DictionaryArray.from_arrays(
            pa.array(np.repeat(np.arange(len(spans), dtype=np.int32), counts)),
            pa.array([s.request_id for s in spans], pa.string()),
        ).cast(pa.string()),
        "row": pa.array(
            (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)).astype(np.int32)
        ),
        "deployment": pa.array([first.deployment] * total, pa.string()),
        "model": pa.array([first.model] * total, pa.string()),
        "version": pa.array([first.version] * total, pa.int32()),
        "arm": pa.array([first.arm] * total, pa.string()),
        "latency_ms": pa.array(np.repeat(np.array([s.latency_ms for s in spans]), counts)),
        "prediction": _arrow(gather([e.predictions for e in entries])),
    }
    if first.proba is not None and first.classes is not None:
        proba = gather([e.proba for e in entries]).astype(np.float64, copy=False)
        for j, label in enumerate(first.classes):
            data[f"proba.{label}"] = pa.array(proba[:, j])
    for name in first.columns:
        data[f"input.{name}"] = _arrow(gather([e.columns[name] for e in entries]))
    for name in first.attributions or {}:
        values = gather([e.attributions[name] for e in entries])  # type: ignore[index]
        data[f"shap.{name}"] = pa.array(values.astype(np.float64, copy=False))
    return pa.table(data)


def _arrow(values: np.ndarray) -> Any:
    import pyarrow as pa

    if values.ndim > 1:
        return pa.array(list(values.tolist()))
    if values.dtype.kind in "OUS":
        return pa.array(values.tolist())
    if values.dtype.kind == "M":
        return pa.array(values.astype("datetime64[ms]"))
    return pa.array(values)


def _hour(ms: int) -> str:
    return _hour_name(ms // _HOUR_MS)


@lru_cache(maxsize=256)
def _hour_name(index: int) -> str:
    return datetime.fromtimestamp(index * _HOUR_MS / 1000, UTC).strftime("%Y%m%d%H")


# -- reading ------------------------------------------------------------------------------


Moment = datetime | int | float | None


def to_ms(moment: Moment, *, field: str) -> int | None:
    """Milliseconds since the epoch from a datetime (naive means UTC) or a number of ms."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if isinstance(moment, bool) or not isinstance(moment, int | float):
        raise InvalidInputError(
            f"{field} must be a datetime or milliseconds since the epoch, got "
            f"{type(moment).__name__}",
            field=field,
        )
    return int(moment)


def read_prediction_log(
    artifact_root: LogRoot, name: str, since: Moment = None, until: Moment = None
) -> pd.DataFrame:
    """The logged predictions of deployment ``name`` under ``artifact_root`` with
    ``since <= time < until`` (datetimes, naive ones UTC, or ms since the epoch; None
    leaves that end open), sorted by time, request and row. Only the hour partitions in
    range are read; files with different columns are unified (missing values are null).

    ``mlcycle.deployments.prediction_log(name, since, until)`` calls this with the
    client's artifact location.

    >>> read_prediction_log("/srv/artifacts", "churn", since=1_700_000_000_000)  # doctest: +SKIP
    """
    import pandas as pd

    if not isinstance(name, str) or not name:
        raise InvalidInputError("the deployment name must be a non-empty string", field="name")
    lo, hi = to_ms(since, field="since"), to_ms(until, field="until")
    if lo is not None and hi is not None and hi < lo:
        raise InvalidInputError("until must not be before since", field="until")
    table = prediction_logs(artifact_root).read(name, lo, hi)
    if table is None:
        return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES[c]) for c in BASE_COLUMNS})
    table = table.sort_by(
        [("time", "ascending"), ("request_id", "ascending"), ("row", "ascending")]
    )
    frame: pd.DataFrame = table.to_pandas()
    frame["version"] = frame["version"].astype("Int32")
    return frame


_EMPTY_DTYPES = {
    "time": "datetime64[ms, UTC]",
    "request_id": "object",
    "row": "int32",
    "deployment": "object",
    "model": "object",
    "version": "Int32",
    "arm": "object",
    "latency_ms": "float64",
    "prediction": "object",
}


def _keys(store: ArtifactStore, deployment: str, lo: int | None, hi: int | None) -> list[str]:
    """The log files of ``deployment`` in the hour partitions that overlap [lo, hi]."""
    first = None if lo is None else _hour(lo)
    last = None if hi is None else _hour(hi)
    found: list[str] = []
    for key in store.iter_keys(deployment_prefix(deployment)):
        *_, partition, name = key.split("/")
        if not partition.startswith("hour=") or not (
            name.startswith("part-") and name.endswith(".parquet")
        ):
            continue
        hour = partition[len("hour=") :]
        if (first is not None and hour < first) or (last is not None and hour > last):
            continue
        found.append(key)
    return sorted(found)


def _read(store: ArtifactStore, key: str, columns: list[str] | None = None) -> Any:
    """One log file as an Arrow table: in place when the store keeps it on this disk,
    else streamed (ranged reads of the footer and the columns asked for)."""
    import pyarrow.parquet as pq

    local_path = getattr(store, "local_path", None)
    path = None if local_path is None else local_path(key)
    if path is not None:
        return pq.read_table(path, columns=columns)
    with store.open(key) as handle:
        return pq.read_table(handle, columns=columns)


def logged_request_ids(
    artifact_root: LogRoot,
    name: str,
    request_ids: Iterable[str],
    *,
    since_ms: int | None = None,
) -> set[str]:
    """Which of ``request_ids`` appear in the deployment's log (from ``since_ms`` on);
    reads only the ``request_id`` column of the partitions in range."""
    return prediction_logs(artifact_root).find_requests(name, set(request_ids), since_ms)


class StoredPredictionLogs:
    """The prediction logs kept in an artifact store, under
    ``prediction-logs/deployment=<name>/hour=<YYYYMMDDHH>/part-<id>.parquet``.

    >>> logs = StoredPredictionLogs(open_artifact_store("/srv/artifacts"))  # doctest: +SKIP
    >>> logs.exists("churn")  # doctest: +SKIP
    """

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store

    def write(self, deployment: str, hour: str, data: bytes) -> None:
        self.write_part(deployment, hour, new_id(), data)

    def write_part(self, deployment: str, hour: str, part: str, data: bytes) -> None:
        """Store ``data`` as the file ``part`` of the partition (writing the same part
        twice keeps one file: a retried upload does not log its rows twice)."""
        check_hour(hour)
        check_part(part)
        key = f"{deployment_prefix(deployment)}/hour={hour}/part-{part}.parquet"
        self.store.put_bytes(key, data)  # whole or absent, for readers

    def exists(self, deployment: str) -> bool:
        keys = self.store.iter_keys(deployment_prefix(deployment))
        return next(iter(keys), None) is not None

    def read(
        self,
        deployment: str,
        since_ms: int | None,
        until_ms: int | None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table | None:
        import pyarrow as pa
        import pyarrow.compute as pc

        wanted = None if columns is None else sorted({*check_columns(columns), "time"})
        keys = _keys(self.store, deployment, since_ms, until_ms)
        tables = [_read(self.store, key, wanted) for key in keys]
        if not tables:
            return None
        table = pa.concat_tables(tables, promote_options="permissive")
        times = pc.cast(table["time"], pa.int64())
        mask = None
        if since_ms is not None:
            mask = pc.greater_equal(times, since_ms)
        if until_ms is not None:
            upper = pc.less(times, until_ms)
            mask = upper if mask is None else pc.and_(mask, upper)
        if mask is not None:
            table = table.filter(mask)
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        return table

    def find_requests(
        self, deployment: str, request_ids: Collection[str], since_ms: int | None
    ) -> set[str]:
        wanted = set(request_ids)
        found: set[str] = set()
        for key in reversed(_keys(self.store, deployment, since_ms, None)):
            ids = _read(self.store, key, ["request_id"]).column("request_id").to_pylist()
            found.update(wanted.intersection(ids))
            if found == wanted:
                break
        return found


def check_columns(columns: Sequence[str]) -> list[str]:
    """``columns`` when each is one every log file has (:data:`BASE_COLUMNS`)."""
    for column in columns:
        if column not in BASE_COLUMNS:
            raise InvalidInputError(
                f"column {column!r} cannot be read alone; choose from {', '.join(BASE_COLUMNS)}",
                field="columns",
            )
    return list(columns)


def check_part(part: str) -> str:
    """``part`` when it names a log file: 1-64 lowercase hex digits (an ID)."""
    if not (isinstance(part, str) and 0 < len(part) <= 64 and _HEX.fullmatch(part)):
        raise InvalidInputError(
            f"a log file part must be 1-64 lowercase hex digits, got {part!r}", field="part"
        )
    return part


def check_hour(hour: str) -> str:
    """``hour`` when it is a ``YYYYMMDDHH`` partition name, else InvalidInputError."""
    if not (isinstance(hour, str) and len(hour) == 10 and hour.isascii() and hour.isdigit()):
        raise InvalidInputError(
            f"hour must be a UTC hour as YYYYMMDDHH, got {hour!r}", field="hour"
        )
    try:
        datetime.strptime(hour, "%Y%m%d%H")
    except ValueError:
        raise InvalidInputError(f"hour {hour!r} is not a valid UTC hour", field="hour") from None
    return hour
