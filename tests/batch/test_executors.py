"""The Executor protocol and ThreadExecutor: ordered results, bounded read-ahead, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from mlcycle.batch import Executor, ThreadExecutor
from mlcycle.errors import InvalidInputError


def test_results_come_in_input_order_whatever_finishes_first() -> None:
    def slow_first(x: int) -> int:
        time.sleep(0.02 if x % 3 == 0 else 0.0)
        return x * 10

    with ThreadExecutor(workers=3) as executor:
        assert list(executor.map(slow_first, range(20))) == [x * 10 for x in range(20)]
    assert isinstance(executor, Executor)


def test_items_are_pulled_at_most_in_flight_ahead() -> None:
    pulled = 0
    consumed = 0
    ahead: list[int] = []

    def items() -> Iterator[int]:
        nonlocal pulled
        for i in range(50):
            pulled += 1
            ahead.append(pulled - consumed)
            yield i

    with ThreadExecutor(workers=2, in_flight=3) as executor:
        for _ in executor.map(lambda x: x, items()):
            consumed += 1
    assert pulled == 50
    assert max(ahead) <= 4  # the window (3) plus the item being consumed


def test_an_error_in_a_chunk_is_raised_to_the_consumer() -> None:
    def fail_on_five(x: int) -> int:
        if x == 5:
            raise ValueError("five")
        return x

    results: list[int] = []
    with ThreadExecutor(workers=2) as executor, pytest.raises(ValueError, match="five"):
        results.extend(executor.map(fail_on_five, range(10)))  # keeps what came before
    assert results == [0, 1, 2, 3, 4]


def test_closing_early_waits_for_running_chunks() -> None:
    running = threading.Event()
    finished: list[int] = []

    def work(x: int) -> int:
        running.set()
        time.sleep(0.01)
        finished.append(x)
        return x

    executor = ThreadExecutor(workers=2, in_flight=4)
    results = executor.map(work, range(100))
    assert next(results) == 0
    results.close()  # type: ignore[attr-defined]
    count = len(finished)
    time.sleep(0.05)
    assert len(finished) == count  # nothing runs after close returned
    assert count < 100
    executor.close()
    assert list(executor.map(lambda x: x + 1, [1, 2])) == [2, 3]  # restarts its threads
    executor.close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"workers": 0}, "workers"),
        ({"workers": True}, "workers"),
        ({"workers": 2, "in_flight": 1}, "in_flight"),
    ],
)
def test_bad_settings(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        ThreadExecutor(**kwargs)
    assert info.value.field == field


def test_native_thread_pools_share_the_cores_with_the_workers() -> None:
    from mlcycle.batch.job import native_threads

    assert native_threads(1) >= 1
    assert native_threads(64) == 1
    assert native_threads(1) >= native_threads(2)
