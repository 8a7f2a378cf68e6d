"""Binary wire formats of the tracking server's metric endpoints.

Batches: the body of ``POST /api/v1/runs/{run_id}/metrics/batches``
(``application/vnd.mlcycle.metric-batches``), several metric batches in one request::

    b"MB1" | uint32 count | count x (uint16 key length | key, UTF-8 | uint32 length | chunk)

where each chunk is a :mod:`mlcycle.codec.metric_chunks` blob (already compressed).

Series: a metric history (``application/vnd.mlcycle.series``), three raw columns, because
producing and reading them costs a memory copy where compressing 100,000 points costs tens
of milliseconds, more than sending them over a fast network saves::

    b"MS1" | uint32 n | int64 steps[n] | int64 timestamps[n] | float64 values[n]

Everything is little-endian. Decoders check every length and name the problem in an
:class:`InvalidInputError`, so a malformed body is a client error, never a crash.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from mlcycle.codec.metric_chunks import decode as decode_chunk
from mlcycle.codec.metric_chunks import encode as encode_chunk
from mlcycle.entities import MetricBatch
from mlcycle.errors import InvalidInputError, StoreError

BATCHES_MEDIA_TYPE = "application/vnd.mlcycle.metric-batches"
SERIES_MEDIA_TYPE = "application/vnd.mlcycle.series"

#: Points one chunk may declare; a batch body holds at most this many points in all.
MAX_POINTS = 10_000_000
MAX_BATCHES = 100_000

_BATCHES = struct.Struct("<3sI")
_KEY = struct.Struct("<H")
_LEN = struct.Struct("<I")
_CHUNK = struct.Struct("<3sI")
_COLUMN = struct.Struct("<BI")
_SERIES = struct.Struct("<3sI")


def _bad(message: str) -> InvalidInputError:
    return InvalidInputError(f"malformed metric batches body: {message}", field="body")


def encode_batches(batches: Sequence[MetricBatch]) -> bytes:
    """Encode metric batches (each compressed as a metric chunk) into one request body."""
    parts = [_BATCHES.pack(b"MB1", len(batches))]
    for batch in batches:
        key = batch.key.encode()
        chunk = encode_chunk(batch.steps, batch.timestamps, batch.values)
        parts += [_KEY.pack(len(key)), key, _LEN.pack(len(chunk)), chunk]
    return b"".join(parts)


def _check_chunk(chunk: bytes | memoryview, budget: int) -> int:
    """Check a chunk's framing without trusting it: every column must inflate to exactly
    ``n`` x 8 bytes (never more, so a small body cannot expand to gigabytes)."""
    try:
        magic, n = _CHUNK.unpack_from(chunk, 0)
    except struct.error:
        raise _bad("a chunk is shorter than its header") from None
    if magic != b"MC1":
        raise _bad("a chunk does not start with the metric chunk magic b'MC1'")
    if n > budget:
        raise _bad(f"more than {MAX_POINTS} points in one request")
    offset = _CHUNK.size
    for _ in range(3):
        try:
            codec, length = _COLUMN.unpack_from(chunk, offset)
        except struct.error:
            raise _bad("a chunk ends inside a column header") from None
        offset += _COLUMN.size
        column = chunk[offset : offset + length]
        if len(column) != length:
            raise _bad("a chunk ends inside a column")
        offset += length
        if codec == 1:
            inflater = zlib.decompressobj()
            try:
                size = len(inflater.decompress(column, n * 8 + 1))
            except zlib.error:
                raise _bad("a compressed column does not inflate") from None
            if size != n * 8 or inflater.unconsumed_tail or not inflater.eof:
                raise _bad("a column does not hold as many values as the chunk declares")
        elif codec != 0 or length != n * 8:
            raise _bad("a column has an unknown codec or the wrong length")
    if offset != len(chunk):
        raise _bad("a chunk has trailing bytes")
    return int(n)


def decode_batches(body: bytes) -> list[MetricBatch]:
    """Decode a request body made by :func:`encode_batches`.

    Raises:
        InvalidInputError: the body is malformed (field ``body``) or a key is not UTF-8.
    """
    try:
        magic, count = _BATCHES.unpack_from(body, 0)
    except struct.error:
        raise _bad("shorter than its header") from None
    if magic != b"MB1":
        raise _bad("it does not start with b'MB1'")
    if count > MAX_BATCHES:
        raise _bad(f"more than {MAX_BATCHES} batches in one request")
    view = memoryview(body)
    offset = _BATCHES.size
    budget = MAX_POINTS
    batches: list[MetricBatch] = []
    for _ in range(count):
        try:
            (key_length,) = _KEY.unpack_from(body, offset)
            offset += _KEY.size
            key_bytes = bytes(view[offset : offset + key_length])
            offset += key_length
            (length,) = _LEN.unpack_from(body, offset)
            offset += _LEN.size
        except struct.error:
            raise _bad("it ends inside a batch header") from None
        try:
            key = key_bytes.decode()
        except UnicodeDecodeError:
            raise _bad("a metric key is not UTF-8") from None
        chunk = view[offset : offset + length]
        if len(chunk) != length:
            raise _bad("it ends inside a chunk")
        offset += length
        budget -= _check_chunk(chunk, budget)
        try:
            steps, timestamps, values = decode_chunk(bytes(chunk))
        except StoreError as exc:
            raise _bad(str(exc)) from exc
        batches.append(MetricBatch(key=key, steps=steps, timestamps=timestamps, values=values))
    if offset != len(body):
        raise _bad("it has trailing bytes after the last batch")
    return batches


def encode_series(
    steps: npt.NDArray[np.int64],
    timestamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
) -> bytes:
    """Encode a metric series as three raw little-endian columns."""
    return b"".join(
        (
            _SERIES.pack(b"MS1", int(values.shape[0])),
            steps.astype("<i8", copy=False).tobytes(),
            timestamps.astype("<i8", copy=False).tobytes(),
            values.astype("<f8", copy=False).tobytes(),
        )
    )


def decode_series(
    body: bytes,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Decode a series made by :func:`encode_series` into (steps, timestamps, values)."""
    try:
        magic, n = _SERIES.unpack_from(body, 0)
    except struct.error:
        raise InvalidInputError("malformed metric series: too short", field="body") from None
    if magic != b"MS1" or len(body) != _SERIES.size + 24 * n:
        raise InvalidInputError("malformed metric series: bad header or length", field="body")
    start = _SERIES.size
    steps = np.frombuffer(body, dtype="<i8", count=n, offset=start).astype(np.int64)
    timestamps = np.frombuffer(body, dtype="<i8", count=n, offset=start + 8 * n)
    values = np.frombuffer(body, dtype="<f8", count=n, offset=start + 16 * n)
    return steps, timestamps.astype(np.int64), values.astype(np.float64)
