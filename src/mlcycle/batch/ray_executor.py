"""Batch prediction on a Ray cluster: each chunk is a Ray task.

The work (model included) is put in Ray's object store once; tasks on any worker fetch it
from there, predict their chunk and save it as a part, so a job whose worker dies resumes
from the finished parts (Ray also retries a task whose worker died). Needs the ``ray`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar, cast

from mlcycle.batch.executors import check_workers, ordered_map
from mlcycle.compute.ray_cluster import cluster_cpus, connect

T = TypeVar("T")
R = TypeVar("R")


class RayExecutor:
    """Runs chunks as Ray tasks, ``workers`` at a time (None: one per cluster CPU).

    ``address`` is the cluster (default ``RAY_ADDRESS``, else a local cluster); a task
    whose worker died is retried ``max_retries`` times.

    Parquet input is read by the tasks themselves, from the file or the bucket
    (``reads_in_workers``): each task is sent where its chunk is, not the rows.

    >>> executor = RayExecutor(workers=4)  # doctest: +SKIP
    >>> mlcycle.batch.predict(m, "in.parquet", "o.parquet", executor=executor)  # doctest: +SKIP
    """

    reads_in_workers = True

    def __init__(
        self,
        *,
        workers: int | None = None,
        address: str | None = None,
        cpus_per_task: float = 1.0,
        max_retries: int = 3,
    ) -> None:
        if workers is not None:
            check_workers(workers, None)
        self._requested = workers
        self.address = address
        self.cpus_per_task = cpus_per_task
        self.max_retries = max_retries
        self._ray: Any = None

    def _connect(self) -> Any:
        if self._ray is None:
            self._ray = connect(self.address)
        return self._ray

    @property
    def workers(self) -> int:
        if self._requested is not None:
            return self._requested
        return max(1, int(cluster_cpus(self._connect()) / self.cpus_per_task))

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        ray = self._connect()
        task = ray.remote(num_cpus=self.cpus_per_task, max_retries=self.max_retries)(_apply)
        shipped = ray.put(fn)

        def submit(item: T) -> Future[R]:
            return cast("Future[R]", task.remote(shipped, item).future())

        return ordered_map(submit, items, 2 * self.workers)

    def close(self) -> None:
        """Nothing to stop: the cluster outlives the job."""

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self._requested}, address={self.address!r})"


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,unused-ignore]

    with threadpool_limits(limits=1):  # one core per task, as Ray reserved
        return fn(item)
