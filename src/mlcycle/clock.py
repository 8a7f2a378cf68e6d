"""Clocks: the system clock and a manual one for deterministic tests."""

from __future__ import annotations

import threading
import time


def system_clock() -> int:
    """Milliseconds since the Unix epoch, UTC."""
    return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to, for tests.

    >>> clock = ManualClock(1_000)
    >>> clock.advance(500)
    >>> clock()
    1500
    """

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ms: int) -> None:
        with self._lock:
            self._now += ms

    def set(self, ms: int) -> None:
        with self._lock:
            self._now = ms
