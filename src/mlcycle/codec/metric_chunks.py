"""Compact columnar encoding of metric points.

A chunk holds ``n`` points of one metric as three columns. Steps and timestamps are
delta-encoded (consecutive steps differ by 1, timestamps by a few ms, so the deltas compress
to almost nothing); the float64 values are byte-shuffled (all first bytes, then all second
bytes, ...) so that exponents and high mantissa bytes sit together and compress. Each column
is then zlib-compressed, unless a sample shows it would not shrink (random values do not:
compressing them costs more time than it saves bytes). NaN and +/-inf round-trip bit for bit.

Layout: ``b"MC1" | uint32 n | 3 x (uint8 codec | uint32 length | bytes)``, little-endian,
codec 0 = raw, 1 = zlib.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

from mlcycle.errors import StoreError

_MAGIC = b"MC1"
_HEADER = struct.Struct("<3sI")
_COLUMN = struct.Struct("<BI")
_LEVEL = 1  # fast; level 6 saves only a few percent more on this data
_RAW, _ZLIB = 0, 1  # raw values are stored unshuffled
_SAMPLE = 1 << 16


def _compresses(raw: bytes) -> bool:
    """Whether a sample of ``raw`` shrinks below 90 % under zlib."""
    sample = raw[:_SAMPLE]
    return len(zlib.compress(sample, _LEVEL)) < 0.9 * len(sample)


def _delta(a: npt.NDArray[np.int64]) -> bytes:
    d = np.empty_like(a)
    if a.size:
        d[0] = a[0]
        np.subtract(a[1:], a[:-1], out=d[1:])
    return d.astype("<i8", copy=False).tobytes()


def _undelta(raw: bytes) -> npt.NDArray[np.int64]:
    return np.cumsum(np.frombuffer(raw, dtype="<i8"), dtype=np.int64)


def _shuffle(values: npt.NDArray[np.float64]) -> bytes:
    as_bytes = values.astype("<f8", copy=False).view(np.uint8).reshape(-1, 8)
    return np.ascontiguousarray(as_bytes.T).tobytes()


def _unshuffle(raw: bytes, n: int) -> npt.NDArray[np.float64]:
    planes = np.frombuffer(raw, dtype=np.uint8).reshape(8, n)
    return np.ascontiguousarray(planes.T).view("<f8").reshape(n).astype(np.float64)


def _encode_ints(a: npt.NDArray[np.int64]) -> tuple[int, bytes]:
    return _ZLIB, zlib.compress(_delta(a), _LEVEL)


def _encode_floats(values: npt.NDArray[np.float64]) -> tuple[int, bytes]:
    shuffled = _shuffle(values)
    if _compresses(shuffled):
        return _ZLIB, zlib.compress(shuffled, _LEVEL)
    return _RAW, values.astype("<f8", copy=False).tobytes()


def encode(
    steps: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
) -> bytes:
    """Encode parallel arrays of equal length into one chunk."""
    n = int(values.shape[0])
    if steps.shape[0] != n or timestamps.shape[0] != n:
        raise ValueError("steps, timestamps and values must have the same length")
    parts = [_HEADER.pack(_MAGIC, n)]
    for codec, packed in (_encode_ints(steps), _encode_ints(timestamps), _encode_floats(values)):
        parts.append(_COLUMN.pack(codec, len(packed)))
        parts.append(packed)
    return b"".join(parts)


def decode(
    blob: bytes,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Decode a chunk into (steps, timestamps, values)."""
    try:
        magic, n = _HEADER.unpack_from(blob, 0)
        if magic != _MAGIC:
            raise ValueError(f"bad magic {magic!r}")
        offset = _HEADER.size
        columns: list[tuple[int, memoryview]] = []
        view = memoryview(blob)
        for _ in range(3):
            codec, length = _COLUMN.unpack_from(blob, offset)
            offset += _COLUMN.size
            columns.append((codec, view[offset : offset + length]))
            offset += length
        steps = _undelta(zlib.decompress(columns[0][1]))
        timestamps = _undelta(zlib.decompress(columns[1][1]))
        codec, body = columns[2]
        if codec == _ZLIB:
            values = _unshuffle(zlib.decompress(body), n)
        else:
            values = np.frombuffer(body, dtype="<f8").astype(np.float64)
    except (ValueError, struct.error, zlib.error) as exc:
        raise StoreError(f"a stored metric chunk is corrupt: {exc}") from exc
    return steps, timestamps, values
