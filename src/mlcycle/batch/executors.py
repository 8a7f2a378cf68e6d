"""Executors: how the chunks of a batch prediction are spread over workers.

An :class:`Executor` maps a function over an iterable of chunks and yields the results in
the order of the chunks. It pulls chunks from the iterable only as workers free up, so at
most a few chunks are in memory at once whatever the size of the input. The batch job
does not care where the function runs: :class:`ThreadExecutor` runs it in threads of this
process (NumPy, scikit-learn's linear algebra and Arrow release the GIL, so threads use
several cores); an executor for a cluster (Ray) only has to implement ``map``.

>>> with ThreadExecutor(workers=2) as executor:
...     list(executor.map(lambda x: x * x, range(5)))
[0, 1, 4, 9, 16]
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Protocol, TypeVar, runtime_checkable

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
        self._workers = workers
        self._window = window
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def in_flight(self) -> int:
        return self._window

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        pool = self._ensure_pool()
        pending: deque[Future[R]] = deque()
        source = iter(items)
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < self._window:
                    try:
                        item = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.append(pool.submit(fn, item))
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            for future in pending:  # let running chunks finish: no thread writes after us
                if not future.cancelled():
                    future.exception()

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
