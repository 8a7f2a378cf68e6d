"""Running monitors on their schedules from a background thread (what
``mlcycle server --scheduler`` does). Several schedulers on one store never run a monitor
twice for the same slot: each claims the run in the store first."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from mlcycle.errors import InvalidInputError

log = logging.getLogger("mlcycle.monitoring.scheduler")


class RunsDueMonitors(Protocol):
    def run_due(self, *, now: int | None = None, every: bool = False) -> Sequence[object]: ...


class Scheduler:
    """Every ``interval_s`` seconds, run the monitors whose schedule is due.

    >>> scheduler = Scheduler(mlcycle.Client().monitoring, interval_s=10)  # doctest: +SKIP
    >>> scheduler.start()  # doctest: +SKIP
    >>> scheduler.stop()  # doctest: +SKIP
    """

    def __init__(self, monitors: RunsDueMonitors, *, interval_s: float = 15.0) -> None:
        if interval_s <= 0:
            raise InvalidInputError("interval_s must be positive", field="interval_s")
        self._monitors = monitors
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ticks = 0

    def start(self) -> Scheduler:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="mlcycle-monitor-scheduler", daemon=True
            )
            self._thread.start()
        return self

    def tick(self) -> int:
        """Run what is due now, in the caller's thread; returns how many monitors ran."""
        try:
            ran = len(self._monitors.run_due())
        except Exception:  # keep scheduling: one bad tick must not end the thread
            log.exception("the monitor scheduler's tick failed")
            ran = 0
        self.ticks += 1
        return ran

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval_s)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
