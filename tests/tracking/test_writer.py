"""The metric buffer: draining, failures kept for retry, thread safety."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from mlcycle.entities import MetricBatch
from mlcycle.errors import StoreError
from mlcycle.tracking.writer import BackgroundWriter, RunBuffer, Series


class Sink:
    def __init__(self) -> None:
        self.batches: list[MetricBatch] = []
        self.fail = False

    def __call__(self, run_id: str, batches: Sequence[MetricBatch]) -> None:
        if self.fail:
            raise StoreError("store down")
        self.batches.extend(batches)

    def points(self, key: str) -> list[float]:
        return [float(v) for b in self.batches if b.key == key for v in b.values]


def test_failed_write_keeps_points_until_a_later_drain() -> None:
    sink = Sink()
    buffer = RunBuffer("r", sink)
    series = Series("m")
    buffer.series["m"] = series
    series.points.extend([(0, 1.0, 1.0), (1, 2.0, 2.0)])
    sink.fail = True
    with pytest.raises(StoreError):
        buffer.drain()
    assert buffer.pending() == 2
    series.points.append((2, 3.0, 3.0))
    sink.fail = False
    buffer.drain()
    assert sink.points("m") == [1.0, 2.0, 3.0]
    assert buffer.pending() == 0
    assert buffer.error is None


def test_background_writer_drains_while_threads_append() -> None:
    sink = Sink()
    buffer = RunBuffer("r", sink)
    writer = BackgroundWriter(interval=0.001)
    writer.register(buffer)
    series = {k: Series(k) for k in ("a", "b")}
    buffer.series.update(series)

    def produce(key: str) -> None:
        for i in range(50_000):
            series[key].points.append((i, 0.0, float(i)))

    threads = [threading.Thread(target=produce, args=(k,)) for k in series]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    for key in series:
        assert sink.points(key) == [float(i) for i in range(50_000)]
