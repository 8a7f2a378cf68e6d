"""Bounded-memory sketches used by the profiler: hashing, HyperLogLog, reservoir sampling.

Everything is vectorised with NumPy over whole batches; no Python loop runs per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets.schema import is_string_type

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_PRIME = np.uint64(0x100000001B3)  # odd multiplier of the polynomial string hash


def _mix64(z: U64, *, owned: bool = False) -> U64:
    """splitmix64 finaliser: spreads any 64-bit input over all output bits.

    Works in place on a copy (or on ``z`` itself if ``owned``): temporaries of batch size
    would otherwise dominate the cost.
    """
    if owned:
        z += _GOLDEN
    else:
        z = z + _GOLDEN
    tmp = z >> np.uint64(30)
    z ^= tmp
    z *= _MIX1
    np.right_shift(z, np.uint64(27), out=tmp)
    z ^= tmp
    z *= _MIX2
    np.right_shift(z, np.uint64(31), out=tmp)
    z ^= tmp
    return z


def hash_array(arr: pa.Array) -> U64:
    """Deterministic 64-bit hashes of the non-null values of ``arr`` (nulls are dropped).

    Numbers hash by value bits (``-0.0`` as ``0.0``), dates and timestamps by their integer
    value, strings and binaries by their bytes. The hash does not depend on the process
    (unlike ``hash(str)``), so distinct estimates are reproducible.
    """
    arr = arr.drop_null() if arr.null_count else arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    typ = arr.type
    if is_string_type(typ) or pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return _hash_bytes(arr.cast(pa.large_binary()))
    if pa.types.is_boolean(typ):
        return _mix64(arr.cast(pa.uint64()).to_numpy(zero_copy_only=False))
    if pa.types.is_floating(typ):
        floats = arr if typ == pa.float64() else arr.cast(pa.float64())
        values = floats.to_numpy(zero_copy_only=False) + 0.0  # a copy, and -0.0 -> 0.0
        return _mix64(values.view(np.uint64), owned=True)
    if pa.types.is_integer(typ):
        return _mix64(arr.cast(pa.int64()).to_numpy(zero_copy_only=False).view(np.uint64))
    if pa.types.is_temporal(typ):
        ints = (
            arr.view(pa.int64()) if typ.bit_width == 64 else arr.cast(pa.int32()).cast(pa.int64())
        )
        return _mix64(ints.to_numpy(zero_copy_only=False).view(np.uint64))
    return _hash_bytes(arr.cast(pa.string()).cast(pa.large_binary()))


def _hash_bytes(arr: pa.Array) -> U64:
    """Polynomial hash of each value's bytes, computed over the Arrow buffers at once."""
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data_buffer = arr.buffers()[2]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, np.uint8)
    )
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    hashes = np.zeros(n, dtype=np.uint64)
    total = int(lengths.sum())
    if total:
        # Byte j of a value of length L gets weight PRIME**(L - 1 - j); +1 so zero bytes count.
        nonempty = lengths > 0
        byte_pos = np.arange(total, dtype=np.int64) - np.repeat(
            np.cumsum(lengths) - lengths, lengths
        )
        weight_idx = np.repeat(lengths, lengths) - 1 - byte_pos
        powers = np.cumprod(np.full(int(lengths.max()), _PRIME, dtype=np.uint64))
        powers = np.concatenate([np.ones(1, np.uint64), powers[:-1]])
        # Arrow stores the values' bytes back to back, from offsets[0] to offsets[-1].
        gathered = data[int(offsets[0]) : int(offsets[-1])]
        terms = (gathered.astype(np.uint64) + np.uint64(1)) * powers[weight_idx]
        seg_starts = (np.cumsum(lengths) - lengths)[nonempty]
        hashes[nonempty] = np.add.reduceat(terms, seg_starts)
    return _mix64(hashes ^ (lengths.astype(np.uint64) * _MIX2))


class HyperLogLog:
    """HyperLogLog distinct counter with 2**14 registers (standard error about 0.8%)."""

    P = 14

    def __init__(self) -> None:
        self.registers = np.zeros(1 << self.P, dtype=np.uint8)

    def add_hashes(self, hashes: U64) -> None:
        """Add hashes (the array is overwritten)."""
        rest_bits = 64 - self.P
        index = (hashes >> np.uint64(rest_bits)).view(np.int64)  # < 2**14: same as a copy
        hashes &= np.uint64((1 << rest_bits) - 1)
        # rank = position of the leftmost 1-bit in the remaining 50 bits. 50 bits convert to
        # float64 exactly, so the float's biased exponent E gives it: rank = 1073 - E
        # (E = 0 for an all-zero rest, which gets the maximum rank 51).
        exponent = hashes.astype(np.float64).view(np.int64)
        exponent >>= 52
        np.subtract(1073, exponent, out=exponent)
        np.minimum(exponent, rest_bits + 1, out=exponent)
        np.maximum.at(self.registers, index, exponent.astype(np.uint8))

    def estimate(self) -> int:
        m = float(len(self.registers))
        alpha = 0.7213 / (1.0 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int64))))
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            return round(m * float(np.log(m / zeros)))  # linear counting for small cardinalities
        return round(raw)


class DistinctCounter:
    """Exact distinct count up to ``bound`` values, then a HyperLogLog estimate.

    The exact set is an Arrow array; batches' unique values wait in ``pending`` and are
    merged once they are as many as the set (amortised O(1) per value). Integers (and
    dates) within a span of ``BITMAP_SPAN`` use a bitmap instead, exact at any count.
    """

    BITMAP_SPAN = 1 << 22

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._seen: pa.Array | None = None
        self._pending: list[pa.Array] = []
        self._pending_len = 0
        self._hll: HyperLogLog | None = None
        self._bitmap: npt.NDArray[np.bool_] | None = None
        self._base = 0
        self._bitmap_allowed = True

    def add(self, arr: pa.Array, *, unique: bool = False) -> None:
        """Add a batch's values (nulls ignored); ``unique=True`` if they are distinct already."""
        if self._hll is not None:
            self._hll.add_hashes(hash_array(arr))
            return
        arr = arr.drop_null() if arr.null_count else arr
        batch_unique = arr if unique else pc.unique(arr)
        if pa.types.is_dictionary(batch_unique.type):
            batch_unique = batch_unique.dictionary_decode()
        self._pending.append(batch_unique)
        self._pending_len += len(batch_unique)
        seen_len = 0 if self._seen is None else len(self._seen)
        if self._pending_len >= max(seen_len, self.bound // 8):
            self._merge()

    def add_ints(self, values: npt.NDArray[np.integer[Any]], lo: int, hi: int) -> None:
        """Add non-null integers whose minimum and maximum are ``lo`` and ``hi``."""
        if self._bitmap_allowed and values.dtype != np.uint64:
            new_lo = lo if self._bitmap is None else min(lo, self._base)
            old_hi = -(1 << 63) if self._bitmap is None else self._base + len(self._bitmap) - 1
            new_hi = max(hi, old_hi)
            if new_hi - new_lo < self.BITMAP_SPAN:
                bitmap = self._bitmap
                if bitmap is None or new_lo < self._base or new_hi > old_hi:
                    bitmap = np.zeros(new_hi - new_lo + 1, dtype=np.bool_)
                    if self._bitmap is not None:
                        start = self._base - new_lo
                        bitmap[start : start + len(self._bitmap)] = self._bitmap
                    self._bitmap, self._base = bitmap, new_lo
                bitmap[values.astype(np.int64, copy=False) - new_lo] = True
                return
            self._bitmap_allowed = False
            if self._bitmap is not None:
                known = np.flatnonzero(self._bitmap).astype(np.int64) + self._base
                self._bitmap = None
                self.add(pa.array(known), unique=True)
        self.add(pa.array(values))

    def _merge(self) -> None:
        parts = ([] if self._seen is None else [self._seen]) + self._pending
        self._pending, self._pending_len = [], 0
        if not parts:
            return
        merged = pc.unique(pa.concat_arrays(parts)) if len(parts) > 1 else parts[0]
        if len(merged) > self.bound:
            self._hll = HyperLogLog()
            self._hll.add_hashes(hash_array(merged))
            self._seen = None
        else:
            self._seen = merged

    def result(self) -> tuple[int, bool]:
        """``(count, exact)``."""
        if self._bitmap is not None:
            return int(np.count_nonzero(self._bitmap)), True
        self._merge()
        if self._hll is not None:
            return self._hll.estimate(), False
        return (0 if self._seen is None else len(self._seen)), True


class Reservoir:
    """Uniform sample without replacement of at most ``size`` values from a stream.

    Bottom-k sampling: every value gets a uniform random key and the ``size`` smallest keys
    win. Once the sample is full only values whose key could beat the current threshold
    ``tau`` are drawn (positions by geometric gaps), so a batch costs O(accepted) random
    numbers rather than O(rows); the sample is compacted when the candidates double.
    """

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.rng = rng
        self.tau = 1.0
        self._keys: list[F64] = []
        self._values: list[F64] = []
        self._buffered = 0

    def add(self, values: F64) -> None:
        n = len(values)
        if n == 0:
            return
        if self.tau >= 1.0:
            keys = self.rng.random(n)
            chosen = values
        else:
            positions = self._below_tau(n)
            if len(positions) == 0:
                return
            keys = self.rng.random(len(positions)) * self.tau
            chosen = values[positions]
        self._keys.append(keys)
        self._values.append(np.array(chosen, dtype=np.float64))  # no view of batch memory
        self._buffered += len(keys)
        if self._buffered >= 2 * self.size:
            self._compact()

    def _below_tau(self, n: int) -> npt.NDArray[np.int64]:
        """Positions in ``range(n)`` whose key would fall below ``tau``: each is one with
        probability ``tau``, so the gaps between them are geometric and only about
        ``n * tau`` random numbers are needed."""
        if self.tau > 0.25:  # many hits: one uniform draw per position is cheaper
            return np.flatnonzero(self.rng.random(n) < self.tau)
        expected = n * self.tau
        gaps = self.rng.geometric(self.tau, size=int(expected + 4 * np.sqrt(expected) + 16))
        positions = np.cumsum(gaps) - 1
        while positions[-1] < n:
            more = np.cumsum(self.rng.geometric(self.tau, size=len(gaps))) + positions[-1]
            positions = np.concatenate([positions, more])
        return positions[positions < n]

    def _compact(self) -> None:
        keys = np.concatenate(self._keys)
        values = np.concatenate(self._values)
        if len(keys) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, values = keys[keep], values[keep]
            self.tau = float(keys.max())
        self._keys, self._values, self._buffered = [keys], [values], len(keys)

    def sample(self) -> F64:
        if not self._keys:
            return np.zeros(0, dtype=np.float64)
        self._compact()
        return self._values[0]
