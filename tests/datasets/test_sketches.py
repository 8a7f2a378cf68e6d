"""The bounded-memory building blocks of the profiler."""

from __future__ import annotations

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets._sketches import DistinctCounter, HyperLogLog, Reservoir, hash_array


def test_string_hashes_are_deterministic_and_slice_safe() -> None:
    arr = pa.array(["", "a", "\x00a", "a\x00", "hello", None, "a"])
    hashes = hash_array(arr)
    assert len(hashes) == 6  # the null is dropped
    assert hashes[1] == hashes[5]  # equal strings, equal hashes
    assert len(set(hashes.tolist())) == 5
    sliced = hash_array(arr.slice(4, 3))
    assert sliced.tolist() == [hashes[4], hashes[5]]
    assert hash_array(arr.cast(pa.large_string())).tolist() == hashes.tolist()
    assert hash_array(arr.dictionary_encode()).tolist() == hashes.tolist()


def test_number_hashes_treat_negative_zero_as_zero() -> None:
    assert len(set(hash_array(pa.array([0.0, -0.0])).tolist())) == 1
    ints = hash_array(pa.array([1, 2, 3], pa.int32()))
    assert ints.tolist() == hash_array(pa.array([1, 2, 3], pa.int64())).tolist()


def test_hyperloglog_accuracy() -> None:
    hll = HyperLogLog()
    values = np.arange(200_000, dtype=np.int64)
    hll.add_hashes(hash_array(pa.array(values)))
    hll.add_hashes(hash_array(pa.array(values[:50_000])))  # repeats do not count
    assert abs(hll.estimate() - 200_000) / 200_000 < 0.03
    small = HyperLogLog()
    small.add_hashes(hash_array(pa.array(np.arange(1_000))))
    assert abs(small.estimate() - 1_000) < 20  # linear counting range


def test_distinct_counter_switches_from_exact_to_estimate() -> None:
    counter = DistinctCounter(bound=1_000)
    for start in range(0, 5_000, 500):
        counter.add(pa.array([f"v{i}" for i in range(start, start + 500)] * 2))
    count, exact = counter.result()
    assert not exact
    assert abs(count - 5_000) / 5_000 < 0.03
    small = DistinctCounter(bound=1_000)
    small.add(pa.array(["a", "b", None, "a"]))
    assert small.result() == (2, True)
    assert DistinctCounter(bound=10).result() == (0, True)


def test_reservoir_is_a_uniform_sample() -> None:
    reservoir = Reservoir(2_000, np.random.default_rng(0))
    for start in range(0, 100_000, 7_000):
        reservoir.add(np.arange(start, min(start + 7_000, 100_000), dtype=np.float64))
    sample = reservoir.sample()
    assert len(sample) == 2_000
    assert len(np.unique(sample)) == 2_000
    # Uniform over positions: each tenth of the stream holds about a tenth of the sample.
    per_tenth = np.bincount((sample // 10_000).astype(int), minlength=10)
    assert per_tenth.min() > 150
    assert per_tenth.max() < 250
    full = Reservoir(10, np.random.default_rng(0))
    full.add(np.array([3.0, 1.0]))
    assert sorted(full.sample().tolist()) == [1.0, 3.0]
    assert len(Reservoir(5, np.random.default_rng(0)).sample()) == 0
