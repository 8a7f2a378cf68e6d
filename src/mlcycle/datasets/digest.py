"""Content digests of tables, and fingerprints of source files.

A dataset version is addressed by the SHA-256 of its *content*: column names, canonical
types and values. It does not depend on how the rows arrive, so a DataFrame, the Parquet
file written from it and the same rows read from CSV with the same types have one digest,
whatever the batch sizes, Parquet encoding, compression or row groups::

    >>> import pyarrow as pa
    >>> t = pa.table({"x": [1, 2, 3], "s": ["a", None, "c"]})
    >>> one = ContentHasher(canonical_schema(t.schema))
    >>> for b in t.to_batches(max_chunksize=1):
    ...     one.update(b)
    >>> other = ContentHasher(canonical_schema(t.schema))
    >>> other.update(t.to_batches()[0])
    >>> one.hexdigest() == other.hexdigest()
    True

Why not hash the Parquet bytes or an Arrow IPC stream? Both encode incidental things: batch
and page boundaries, per-batch dictionaries, bytes under null slots, writer versions. The
digest instead feeds one SHA-256 per column with a canonical encoding that concatenates
across batches: fixed-width values as little-endian bytes (nulls as zeros), strings and
binaries as their int32 lengths and their bytes (nulls as empty), booleans as one byte each,
dictionary columns as their decoded values; plus the row numbers of the nulls. The final
digest hashes the schema, the row count and the column digests. Nested types (lists,
structs, ...) hash their Arrow IPC form per batch, so their digest depends on batching.

Canonical types: ``large_string`` and ``string_view`` count as ``string``, ``large_binary``
as ``binary``, dictionaries as ``dictionary<int32, value type>``; nullability and schema
metadata are ignored.

A *fingerprint* is the SHA-256 of a file's bytes, used to recognise a file registered
before without decoding it again (:func:`file_fingerprint`).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.datasets.schema import is_string_type

_FORMAT = b"mlcycle.dataset.content.v1\0"
_FILE_FORMAT = "mlcycle.file.v1"
_FILE_CHUNK = 16 << 20


def canonical_type(arrow_type: pa.DataType) -> pa.DataType:
    """The type a column is stored and hashed as (see the module docstring)."""
    t = pa.types
    if is_string_type(arrow_type):
        return pa.string()
    if t.is_large_binary(arrow_type) or (
        getattr(t, "is_binary_view", None) is not None and t.is_binary_view(arrow_type)
    ):
        return pa.binary()
    if t.is_dictionary(arrow_type):
        return pa.dictionary(
            pa.int32(), canonical_type(arrow_type.value_type), ordered=arrow_type.ordered
        )
    return arrow_type


def canonical_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with canonical types, every column nullable and no metadata."""
    return pa.schema([pa.field(f.name, canonical_type(f.type)) for f in schema])


class ContentHasher:
    """Accumulates the content digest of batches with a given canonical schema."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.num_rows = 0
        self._values = [hashlib.sha256() for _ in schema]
        self._nulls = [hashlib.sha256() for _ in schema]
        self._lengths = [hashlib.sha256() for _ in schema]

    def update(self, batch: pa.RecordBatch) -> None:
        """Add the rows of ``batch`` (columns in the schema's order, any compatible type)."""
        for i, arr in enumerate(batch.columns):
            self._feed(i, arr)
        self.num_rows += batch.num_rows

    def _feed(self, i: int, arr: pa.Array) -> None:
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        valid = None
        if arr.null_count:
            valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
            positions = np.flatnonzero(~valid).astype("<i8") + self.num_rows
            self._nulls[i].update(positions.tobytes())
        typ = arr.type
        values = self._values[i]
        if pa.types.is_null(typ):
            return
        if is_string_type(typ) or pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
            filled = arr if valid is None else pc.fill_null(arr, _empty(typ))
            _feed_binary(self._lengths[i], values, filled)
        elif pa.types.is_boolean(typ):
            bits = arr if valid is None else pc.fill_null(arr, False)
            values.update(np.asarray(bits.to_numpy(zero_copy_only=False), np.uint8).tobytes())
        elif _byte_width(typ) and len(arr.buffers()) == 2:
            _feed_fixed(values, arr, valid)
        else:
            # Nested and other types: their IPC form (depends on batching, see the docstring).
            values.update(memoryview(pa.record_batch([arr], names=["c"]).serialize()))

    def hexdigest(self) -> str:
        """The content digest: 64 hex characters."""
        top = hashlib.sha256(_FORMAT)
        names = [[f.name, str(canonical_type(f.type))] for f in self.schema]
        top.update(json.dumps(names, separators=(",", ":")).encode())
        top.update(self.num_rows.to_bytes(8, "little"))
        for parts in zip(self._values, self._lengths, self._nulls, strict=True):
            for part in parts:
                top.update(part.digest())
        return top.hexdigest()


def _byte_width(arrow_type: pa.DataType) -> int:
    """Bytes per value of a fixed-width type (numbers, times, decimals...), else 0."""
    try:
        bits = int(arrow_type.bit_width)
    except ValueError:  # variable-width and nested types have none
        return 0
    return bits // 8 if bits % 8 == 0 else 0


def _empty(arrow_type: pa.DataType) -> str | bytes:
    return "" if is_string_type(arrow_type) else b""


def _feed_binary(lengths: Any, values: Any, arr: pa.Array) -> None:
    """Lengths (int32) and bytes, to separate hashes: independent of the offsets' width and
    of batching."""
    if not (pa.types.is_string(arr.type) or pa.types.is_binary(arr.type)):
        arr = arr.cast(pa.large_binary())  # large and view types: 64-bit offsets
    wide = pa.types.is_large_binary(arr.type)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset : arr.offset + len(arr) + 1]
    lengths.update(np.diff(offsets).astype("<i4").tobytes())
    if buffers[2] is not None and offsets[-1] > offsets[0]:
        values.update(memoryview(buffers[2])[int(offsets[0]) : int(offsets[-1])])


def _feed_fixed(values: Any, arr: pa.Array, valid: npt.NDArray[np.bool_] | None) -> None:
    """The values' bytes as stored (no copy), with zeros under nulls."""
    width = _byte_width(arr.type)
    start = arr.offset * width
    view = memoryview(arr.buffers()[1])[start : start + len(arr) * width]
    if valid is None:
        values.update(view)
        return
    raw = np.frombuffer(view, dtype=np.uint8).reshape(len(arr), width).copy()
    raw[~valid] = 0
    values.update(raw.tobytes())


def file_fingerprint(path: str | os.PathLike[str], kind: str, *, threads: int = 4) -> str:
    """``kind:`` plus the SHA-256 tree hash of a file's bytes (16 MiB pieces hashed in
    parallel, then their digests hashed in order with the file size).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     _ = f.write(b"a,b\\n1,2\\n"); f.flush()
    ...     file_fingerprint(f.name, "csv").startswith("csv:")
    True
    """
    target = Path(path)
    size = target.stat().st_size
    pieces = max(1, -(-size // _FILE_CHUNK))

    def piece(i: int) -> bytes:
        with open(target, "rb") as handle:
            handle.seek(i * _FILE_CHUNK)
            return hashlib.sha256(handle.read(_FILE_CHUNK)).digest()

    workers = max(1, min(threads, pieces, os.cpu_count() or 1))
    if workers == 1:
        digests = [piece(i) for i in range(pieces)]
    else:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            digests = list(pool.map(piece, range(pieces)))
    top = hashlib.sha256(f"{_FILE_FORMAT}:{size}:{_FILE_CHUNK}:".encode())
    for d in digests:
        top.update(d)
    return f"{kind}:{top.hexdigest()}"
