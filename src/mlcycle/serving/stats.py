"""What a serving process remembers of recent traffic: per-arm latency and errors (the
canary's guards are judged on them), answers awaiting feedback, and feedback accuracy."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, NamedTuple

import numpy as np

from mlcycle.entities.deployments import ArmStats


class Answered(NamedTuple):
    """A request answered recently: which arm answered it and its first prediction.

    A tuple of plain values, so the garbage collector stops tracking it (a server holds
    many of these; tracked objects would make full collections pause the server)."""

    arm: str
    rows: int
    first: Any
    time_ms: int


class RecentRequests:
    """The last ``capacity`` answered request IDs (for feedback), oldest forgotten first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: dict[str, Answered] = {}
        self._order: deque[str] = deque()
        self._lock = threading.Lock()

    def add(self, request_id: str, answered: Answered) -> None:
        with self._lock:
            if request_id not in self._items:
                self._order.append(request_id)
            self._items[request_id] = answered
            while len(self._order) > self.capacity:
                self._items.pop(self._order.popleft(), None)

    def add_many(self, items: list[tuple[str, Answered]]) -> None:
        """``add`` each (request ID, answer) of a batch, under one lock."""
        with self._lock:
            for request_id, answered in items:
                if request_id not in self._items:
                    self._order.append(request_id)
                self._items[request_id] = answered
            while len(self._order) > self.capacity:
                self._items.pop(self._order.popleft(), None)

    def get(self, request_id: str) -> Answered | None:
        return self._items.get(request_id)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._items


class _Ring:
    """A fixed-size ring of (time, latency, error) in NumPy arrays (no per-record objects)."""

    def __init__(self, capacity: int) -> None:
        self.times = np.zeros(capacity, dtype=np.int64)
        self.values = np.zeros(capacity, dtype=np.float64)
        self.flags = np.zeros(capacity, dtype=np.bool_)
        self.size = 0
        self.next = 0

    def add(self, time_ms: int, value: float, flag: bool) -> None:
        i = self.next
        self.times[i] = time_ms
        self.values[i] = value
        self.flags[i] = flag
        self.next = (i + 1) % len(self.times)
        self.size = min(self.size + 1, len(self.times))

    def extend(self, times: list[int], values: list[float], flag: bool) -> None:
        """Add a batch of records (all with ``flag``) at once."""
        capacity = len(self.times)
        n = len(times)
        if n > capacity:
            times, values, n = times[-capacity:], values[-capacity:], capacity
        i = self.next
        first = min(n, capacity - i)  # up to the end of the arrays, then from the start
        self.times[i : i + first] = times[:first]
        self.values[i : i + first] = values[:first]
        self.flags[i : i + first] = flag
        rest = n - first
        if rest:
            self.times[:rest] = times[first:]
            self.values[:rest] = values[first:]
            self.flags[:rest] = flag
        self.next = (i + n) % capacity
        self.size = min(self.size + n, capacity)

    def since(self, since: int) -> tuple[np.ndarray, np.ndarray]:
        """Values and flags of the records at or after ``since``."""
        keep = self.times[: self.size] >= since
        return self.values[: self.size][keep], self.flags[: self.size][keep]


class ArmRecords:
    """Per arm: (time, latency, error) of recent requests and (time, correct) of feedback."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._requests: dict[str, _Ring] = {}
        self._labels: dict[str, _Ring] = {}
        self._capacity = capacity
        self._lock = threading.Lock()

    def _ring(self, rings: dict[str, _Ring], arm: str) -> _Ring:
        ring = rings.get(arm)
        if ring is None:
            with self._lock:
                ring = rings.setdefault(arm, _Ring(self._capacity))
        return ring

    def request(self, arm: str, time_ms: int, latency_ms: float, error: bool) -> None:
        self._ring(self._requests, arm).add(time_ms, latency_ms, error)

    def answered(self, arm: str, times_ms: list[int], latencies_ms: list[float]) -> None:
        """Record a batch of requests answered without error."""
        self._ring(self._requests, arm).extend(times_ms, latencies_ms, False)

    def label(self, arm: str, time_ms: int, correct: bool) -> None:
        self._ring(self._labels, arm).add(time_ms, 0.0, correct)

    def stats(self, arm: str, version: int | None, since: int) -> ArmStats:
        """What was seen of ``arm`` from ``since`` (ms) on."""
        latencies, errors = self._ring(self._requests, arm).since(since)
        _, correct = self._ring(self._labels, arm).since(since)
        ok = latencies[~errors]
        return ArmStats(
            arm=arm,
            version=version,
            since=since,
            requests=int(latencies.size),
            errors=int(errors.sum()),
            p99_ms=float(np.percentile(ok, 99)) if ok.size else None,
            labelled=int(correct.size),
            accuracy=float(correct.mean()) if correct.size else None,
        )


def same_label(prediction: Any, label: Any) -> bool:
    """Whether a feedback label matches a prediction (1 matches 1.0 and "1")."""
    if isinstance(prediction, np.generic):
        prediction = prediction.item()
    if prediction == label:
        return True
    return str(prediction) == str(label)
