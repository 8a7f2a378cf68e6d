"""Executors: how the chunks of a batch prediction are spread over workers.

An :class:`Executor` maps a function over an iterable of chunks and yields the results in
the order of the chunks. It pulls chunks from the iterable only as workers free up, so at
most a few chunks are in memory at once whatever the size of the input. The batch job
does not care where the function runs: :class:`ThreadExecutor` runs it in threads of this
process (NumPy, scikit-learn's linear algebra and Arrow release the GIL, so threads use
several cores); :class:`ProcessExecutor` in processes of this machine (for models whose
``predict`` holds the GIL); :class:`~mlcycle.batch.ray_executor.RayExecutor` on a Ray
cluster. :func:`executor_for` builds one by name.

>>> with ThreadExecutor(workers=2) as executor:
...     list(executor.map(lambda x: x * x, range(5)))
[0, 1, 4, 9, 16]
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import Protocol, TypeVar, cast, runtime_checkable

from mlcycle.errors import InvalidInputError

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn`` over chunks; the contract every executor keeps:

    * results are yielded in the order of ``items``;
    * ``items`` is consumed lazily, at most ``in_flight`` items ahead of the consumer;
    * an exception raised by ``fn`` is re-raised by the iterator (chunks already yielded
      stay done); closing the iterator early cancels the chunks not started.

    An executor whose workers are not threads of this process may say so with a class
    attribute ``reads_in_workers = True``: a job then sends them where each chunk of a
    Parquet input is (:class:`~mlcycle.batch.slices.ChunkSlice`) instead of its rows.
    """

    @property
    def workers(self) -> int:
        """How many chunks run at the same time."""
        ...

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn(item)`` for each item, in order."""
        ...


class ThreadExecutor:
    """Runs chunks in a pool of ``workers`` threads of this process.

    ``in_flight`` (default ``2 * workers``) bounds the chunks submitted but not yet
    consumed, which bounds memory; the item iterator is advanced in the consumer's thread,
    so reading the next chunk overlaps with the workers' computation.

    >>> executor = ThreadExecutor(workers=4)
    >>> executor.workers
    4
    """

    def __init__(self, workers: int = 1, *, in_flight: int | None = None) -> None:
        self._workers, self._window = check_workers(workers, in_flight)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    #: Chunks are read by this process (a reader thread), not by the workers.
    reads_in_workers = False

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def in_flight(self) -> int:
        return self._window

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pool = self._ensure_pool()
        return ordered_map(lambda item: pool.submit(fn, item), items, self._window)

    def close(self) -> None:
        """Stop the worker threads (the executor can be used again: they restart)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ThreadExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _ensure_pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="mlcycle-batch"
                )
            return self._pool

    def __repr__(self) -> str:
        return f"ThreadExecutor(workers={self._workers}, in_flight={self._window})"


def check_workers(workers: int, in_flight: int | None) -> tuple[int, int]:
    """``(workers, in_flight)`` checked; ``in_flight`` defaults to ``2 * workers``."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInputError(
            f"workers must be a positive integer, got {workers!r}", field="workers"
        )
    window = 2 * workers if in_flight is None else in_flight
    if isinstance(window, bool) or not isinstance(window, int) or window < workers:
        raise InvalidInputError(
            f"in_flight must be an integer of at least workers ({workers}), got {window!r}",
            field="in_flight",
        )
    return workers, window


def ordered_map(submit: Callable[[T], Future[R]], items: Iterable[T], window: int) -> Iterator[R]:
    """The results of ``submit(item)`` in the order of ``items``, with at most ``window``
    submitted and not yet consumed; closing early cancels what has not started and waits
    for what has (no worker writes after the caller moved on)."""
    pending: deque[Future[R]] = deque()
    source = iter(items)
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending.append(submit(item))
            if not pending:
                return
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        for future in pending:
            if not future.cancelled():
                future.exception()


class ProcessExecutor:
    """Runs chunks in ``workers`` processes of this machine.

    For models whose ``predict`` holds the GIL (pure-Python code, some tree libraries).
    The function is pickled once and installed in each worker when the pool starts (a
    model is not shipped with every chunk); chunks and results travel by pickle. Each
    worker limits its native thread pools to one thread, so ``workers`` processes use
    ``workers`` cores. Processes are spawned fresh (no fork of a threaded parent).

    >>> with ProcessExecutor(workers=2) as executor:  # doctest: +SKIP
    ...     list(executor.map(abs, [-1, -2]))
    [1, 2]
    """

    #: Each worker reads its own chunks of Parquet input (the driver sends where they are).
    reads_in_workers = True

    def __init__(self, workers: int = 2, *, in_flight: int | None = None) -> None:
        self._workers, self._window = check_workers(workers, in_flight)

    @property
    def workers(self) -> int:
        return self._workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        try:
            payload = pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise InvalidInputError(
                f"the work cannot be sent to other processes ({exc}); use threads",
                field="executor",
            ) from exc
        pool = ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_install,
            initargs=(payload,),
        )
        try:
            results = ordered_map(lambda item: pool.submit(_call, item), items, self._window)
            yield from cast(Iterator[R], results)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Nothing to stop: each ``map`` has its own pool."""

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self._workers}, in_flight={self._window})"


#: The function a process worker runs, installed once by the pool's initializer.
_installed: list[Callable[[object], object]] = []


def _install(payload: bytes) -> None:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,unused-ignore]

    threadpool_limits(limits=1)  # one core per worker process
    _installed[:] = [pickle.loads(payload)]


def _call(item: object) -> object:
    return _installed[0](item)


#: Names :func:`executor_for` knows.
EXECUTORS = ("thread", "process", "ray")


def executor_for(kind: str, workers: int = 1) -> Executor:
    """An executor by name: ``"thread"`` (the default: threads of this process),
    ``"process"`` (processes of this machine) or ``"ray"`` (tasks on the Ray cluster that
    ``RAY_ADDRESS`` names, else a local one; ``pip install "mlcycle[ray]"``).

    >>> executor_for("thread", workers=2)
    ThreadExecutor(workers=2, in_flight=4)
    """
    if kind == "thread":
        return ThreadExecutor(workers)
    if kind == "process":
        return ProcessExecutor(workers)
    if kind == "ray":
        from mlcycle.batch.ray_executor import RayExecutor  # Ray is an optional extra

        return RayExecutor(workers=workers)
    raise InvalidInputError(
        f"unknown executor {kind!r}; one of {', '.join(EXECUTORS)}", field="executor"
    )
