"""What a serving process reports to the canary controller: per-arm requests, errors,
p99 and accuracy since a step began; the bounded memory of answered requests."""

from __future__ import annotations

import numpy as np

from mlcycle.serving.stats import Answered, ArmRecords, RecentRequests, same_label


def test_arm_stats_count_only_the_current_step() -> None:
    records = ArmRecords(capacity=1_000)
    for t in range(100):
        records.request("candidate", t, latency_ms=float(t), error=t % 10 == 0)
    records.request("primary", 50, 1.0, False)
    stats = records.stats("candidate", 4, since=50)
    assert stats.requests == 50
    assert stats.errors == 5
    assert stats.error_rate == 0.1
    ok = [float(t) for t in range(50, 100) if t % 10]
    assert stats.p99_ms == float(np.percentile(ok, 99))
    assert stats.labelled == 0
    assert stats.accuracy is None
    for t, correct in [(40, False), (60, True), (70, True), (80, False)]:
        records.label("candidate", t, correct)
    labelled = records.stats("candidate", 4, since=50)
    assert labelled.labelled == 3
    assert labelled.accuracy == 2 / 3
    assert records.stats("nobody", None, since=0).requests == 0


def test_records_keep_the_latest_capacity() -> None:
    records = ArmRecords(capacity=10)
    for t in range(25):
        records.request("a", t, 1.0, False)
    assert records.stats("a", None, since=0).requests == 10
    assert records.stats("a", None, since=20).requests == 5


def test_recent_requests_forget_the_oldest() -> None:
    recent = RecentRequests(capacity=3)
    for i in range(5):
        recent.add(f"r{i}", Answered("primary", 1, i, i))
    assert "r0" not in recent
    assert "r1" not in recent
    answered = recent.get("r4")
    assert answered is not None
    assert answered.first == 4


def test_labels_match_predictions_across_types() -> None:
    assert same_label(np.int64(1), 1)
    assert same_label(np.int64(1), "1")
    assert same_label("yes", "yes")
    assert not same_label(np.int64(0), 1)


def test_a_batch_of_answers_wraps_around_the_ring_like_single_records() -> None:
    one_by_one, batched = ArmRecords(capacity=7), ArmRecords(capacity=7)
    start = 0
    for size in (3, 5, 1, 9, 2):  # wraps several times; 9 is more than the capacity
        times = list(range(start, start + size))
        for t in times:
            one_by_one.request("a", t, float(t), False)
        batched.answered("a", times, [float(t) for t in times])
        start += size
    for since in (0, 12, 17, 19):
        assert batched.stats("a", None, since) == one_by_one.stats("a", None, since)
    assert batched.stats("a", None, since=0).requests == 7


def test_recent_requests_take_a_batch_under_one_lock() -> None:
    recent = RecentRequests(capacity=3)
    recent.add_many([(f"r{i}", Answered("primary", 1, i, i)) for i in range(5)])
    assert [rid in recent for rid in ("r0", "r1", "r2", "r3", "r4")] == [
        False,
        False,
        True,
        True,
        True,
    ]
    answered = recent.get("r3")
    assert answered is not None
    assert answered.first == 3
