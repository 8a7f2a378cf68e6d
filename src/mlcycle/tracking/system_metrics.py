"""Background sampling of CPU and memory into a run's metrics (``system/...`` keys)."""

from __future__ import annotations

import threading

import psutil

from mlcycle.tracking.run import ActiveRun

DEFAULT_INTERVAL_S = 5.0


class SystemMetricsMonitor:
    """Logs ``system/cpu_percent``, ``system/memory_percent`` and ``system/memory_used_mb``
    (whole machine) and ``system/process_rss_mb`` every ``interval`` seconds until stopped.
    """

    def __init__(self, run: ActiveRun, *, interval: float = DEFAULT_INTERVAL_S) -> None:
        self._run = run
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"mlcycle-system-metrics-{run.id[:8]}", daemon=True
        )
        self._process = psutil.Process()

    def start(self) -> SystemMetricsMonitor:
        psutil.cpu_percent(None)  # prime: the first call always returns 0.0
        self._thread.start()
        self._run.add_stop_hook(self.stop)
        return self

    def sample(self) -> dict[str, float]:
        memory = psutil.virtual_memory()
        return {
            "system/cpu_percent": float(psutil.cpu_percent(None)),
            "system/memory_percent": float(memory.percent),
            "system/memory_used_mb": (memory.total - memory.available) / 2**20,
            "system/process_rss_mb": self._process.memory_info().rss / 2**20,
        }

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            if self._run.ended:
                return
            self._run.log_metrics(self.sample())

    def stop(self) -> None:
        """Take a last sample and stop the thread."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._interval + 1)
        if not self._run.ended:
            self._run.log_metrics(self.sample())
