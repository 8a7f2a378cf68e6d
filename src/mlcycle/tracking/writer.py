"""The metric buffer and the background thread that writes it.

``log_metric`` appends a tuple to a per-key list and returns: no lock, no I/O. A daemon
thread drains every buffer a few times a second and writes each run's points in one
transaction. ``flush()`` drains synchronously in the caller's thread, so when it returns
everything logged before it is durable. A failed write keeps its points at the front of the
buffer and the error is raised by the next ``flush()``.

Draining relies on two list operations being atomic under the GIL: ``points[:n]`` and
``del points[:n]``. Appends only ever happen at the end, so taking the first ``n`` never
races with a concurrent ``log_metric``.
"""

from __future__ import annotations

import atexit
import itertools
import threading
import weakref
from collections.abc import Callable, Sequence

import numpy as np

from mlcycle.entities import MetricBatch
from mlcycle.errors import MlcycleError

Point = tuple[int, float, float]  # step, timestamp (ms, float), value
WriteFn = Callable[[str, Sequence[MetricBatch]], None]

INTERVAL_S = 0.2


class Series:
    """The pending points of one metric key of one run."""

    __slots__ = ("key", "next_step", "points")

    def __init__(self, key: str, next_step: int = 0) -> None:
        self.key = key
        self.next_step = next_step
        self.points: list[Point] = []


def _to_batch(key: str, points: list[Point]) -> MetricBatch:
    flat = np.fromiter(itertools.chain.from_iterable(points), np.float64, count=3 * len(points))
    cols = flat.reshape(-1, 3)
    return MetricBatch(
        key=key,
        steps=cols[:, 0].astype(np.int64),
        timestamps=np.floor(cols[:, 1]).astype(np.int64),
        values=np.ascontiguousarray(cols[:, 2]),
    )


class RunBuffer:
    """Pending metric points of one run, written through ``write``."""

    def __init__(self, run_id: str, write: WriteFn) -> None:
        self.run_id = run_id
        self.series: dict[str, Series] = {}
        self._write = write
        self._lock = threading.Lock()  # one writer at a time keeps chunks in logging order
        self._retry: list[MetricBatch] = []
        self.error: MlcycleError | None = None

    def pending(self) -> int:
        return sum(len(s.points) for s in list(self.series.values())) + sum(
            len(b) for b in self._retry
        )

    def drain(self) -> None:
        """Write everything pending now; on failure keep it for the next attempt."""
        with self._lock:
            batches = list(self._retry)
            for series in list(self.series.values()):
                points = series.points
                n = len(points)
                if n:
                    taken = points[:n]
                    del points[:n]
                    batches.append(_to_batch(series.key, taken))
            if not batches:
                return
            try:
                self._write(self.run_id, batches)
            except MlcycleError as exc:
                self._retry = batches
                self.error = exc
                raise
            self._retry = []
            self.error = None


class BackgroundWriter:
    """One daemon thread that drains every registered buffer every ``interval`` seconds."""

    def __init__(self, interval: float = INTERVAL_S) -> None:
        self._interval = interval
        self._buffers: weakref.WeakSet[RunBuffer] = weakref.WeakSet()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def register(self, buffer: RunBuffer) -> None:
        with self._guard:
            self._buffers.add(buffer)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="mlcycle-metric-writer", daemon=True
                )
                self._thread.start()
                atexit.register(self.close)

    def unregister(self, buffer: RunBuffer) -> None:
        with self._guard:
            self._buffers.discard(buffer)

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.drain_all()

    def drain_all(self, *, raise_errors: bool = False) -> None:
        """Drain every buffer; errors are kept for the buffer's next flush unless raised."""
        with self._guard:
            buffers = list(self._buffers)
        first: MlcycleError | None = None
        for buffer in buffers:
            try:
                buffer.drain()
            except MlcycleError as exc:
                first = first or exc
        if raise_errors and first is not None:
            raise first

    def close(self) -> None:
        """Stop the thread and write what is left (run at interpreter exit)."""
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)
        self.drain_all()
