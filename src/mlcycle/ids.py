"""Time-sortable identifiers (UUIDv7 layout, as 32 lowercase hex characters)."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """Return a new UUIDv7-style ID: 48 bits of milliseconds, then a counter and randomness.

    IDs made by one process sort by creation time, even within the same millisecond.

    >>> len(new_id())
    32
    """
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:  # 12-bit counter exhausted: borrow the next millisecond
                ms += 1
                _counter = 0
        else:
            _counter = 0
        _last_ms = ms
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return f"{value:032x}"


class SequentialIds:
    """A deterministic ID factory for tests: ``id-000001``-style, sortable hex strings."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            value = self._next
            self._next += 1
        return f"{value:032x}"
