"""Batch output in object storage: ``s3://bucket/prefix`` as partitioned Parquet.

For an output ``s3://bucket/scores/2026-12`` the prefix holds:

* ``part-000042.parquet`` - the output rows of chunk 42 (its metadata names the model, as
  a local output's does). Written by the worker that predicted the chunk, straight into
  the bucket, through the artifact store layer (a multipart upload for large parts); S3
  makes an object visible only once its upload completes, so a part that exists is whole.
* ``_mlcycle_job.json`` - the job's manifest (input fingerprint, model, chunk size,
  options): a later run with the same manifest skips the parts already there.
* ``_SUCCESS`` - written last, when every chunk has its part.

Readers (pyarrow, DuckDB, Spark) read the prefix as one dataset, in chunk order when they
sort by file name; they skip files starting with ``_``.

>>> parts = BucketParts("s3://bucket/scores", metadata={})  # doctest: +SKIP
>>> finished = parts.open({"chunk_rows": 100_000, ...}, restart=False)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from mlcycle.artifacts import S3ArtifactStore, open_artifact_store
from mlcycle.batch.parts import FORMAT, manifest_differences
from mlcycle.errors import ConflictError, InvalidInputError

MANIFEST = "_mlcycle_job.json"
SUCCESS = "_SUCCESS"
_PART = re.compile(r"^part-(\d{6,})\.parquet$")


def is_bucket_uri(output: object) -> bool:
    """Whether ``output`` names object storage (``s3://...``) rather than a local file."""
    return isinstance(output, str) and output.startswith("s3://")


class BucketParts:
    """The parts of one batch job's output under an ``s3://`` prefix.

    Picklable without credentials: a worker (another process, a Ray node) opens the
    bucket with its own AWS variables.
    """

    def __init__(self, uri: str, *, metadata: Mapping[str, str]) -> None:
        bucket, _, prefix = uri[len("s3://") :].strip("/").partition("/")
        if not bucket or not prefix.strip("/"):
            raise InvalidInputError(
                f"output {uri!r} must name a bucket and a prefix (s3://BUCKET/PREFIX)",
                field="output",
            )
        self.uri = f"s3://{bucket}/{prefix.strip('/')}"
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.metadata = dict(metadata)
        self._store: S3ArtifactStore | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"uri": self.uri, "metadata": self.metadata}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["uri"], metadata=state["metadata"])  # type: ignore[misc]

    @property
    def store(self) -> S3ArtifactStore:
        """The bucket (opened with this process's AWS variables)."""
        if self._store is None:
            opened = open_artifact_store(f"s3://{self.bucket}")
            assert isinstance(opened, S3ArtifactStore)
            self._store = opened
        return self._store

    def _keys(self) -> list[str]:
        """The names under the prefix (``part-000000.parquet``, ...)."""
        return [key[len(self.prefix) + 1 :] for key in self.store.iter_keys(self.prefix)]

    def key(self, name: str) -> str:
        """The bucket key of ``name`` under the prefix."""
        return f"{self.prefix}/{name}"

    def open(self, manifest: Mapping[str, Any], *, restart: bool) -> dict[int, int]:
        """Start or resume the job described by ``manifest``; returns the finished chunks
        (index -> rows). Raises ConflictError when parts of a job with another manifest
        are there (unless ``restart``, which deletes them), InvalidInputError when the
        prefix holds other files."""
        wanted = json.loads(json.dumps({"format": FORMAT, **manifest}, sort_keys=True))
        keys = self._keys()
        current = self._read_manifest() if MANIFEST in keys else None
        if current is None and keys:
            raise InvalidInputError(
                f"output {self.uri} already holds files that are not a batch job's "
                f"({keys[0]!r}, ...); choose an empty prefix",
                field="output",
            )
        if current is not None and current != wanted:
            if not restart:
                count = sum(1 for k in keys if _PART.match(k))
                raise ConflictError(
                    f"output {self.uri} holds {count} part(s) of a job with a different "
                    f"{manifest_differences(current, wanted)}; rerun with the same arguments "
                    "to resume, or with --restart (restart=True) to discard them",
                    field="restart",
                )
            for key in keys:
                self.store.delete(self.key(key))
            current = None
        if current is None:
            self.store.put_bytes(
                self.key(MANIFEST), json.dumps(wanted, indent=2, sort_keys=True).encode()
            )
            return {}
        return self.finished(keys)

    def finished(self, keys: list[str] | None = None) -> dict[int, int]:
        """The parts in the bucket: chunk index -> rows (read from each part's footer)."""
        done: dict[int, int] = {}
        for key in self._keys() if keys is None else keys:
            match = _PART.match(key)
            if match:
                with self.store.open(self.key(key)) as handle:
                    done[int(match.group(1))] = pq.ParquetFile(handle).metadata.num_rows
        return done

    def write(self, index: int, table: pa.Table) -> None:
        """Store the output rows of chunk ``index`` as one Parquet object (whole or not
        at all)."""
        buffer = io.BytesIO()
        table = table.replace_schema_metadata(self.metadata)
        encode = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
        pq.write_table(table, buffer, compression="snappy", use_dictionary=encode)
        self.store.put_bytes(self.key(self.part_key(index)), buffer.getvalue())

    def complete(self, summary: Mapping[str, Any]) -> None:
        """Mark the output complete (every chunk has its part)."""
        self.store.put_bytes(self.key(SUCCESS), json.dumps(dict(summary), sort_keys=True).encode())

    def columns(self) -> tuple[str, ...]:
        """The output's columns (those of the first part)."""
        with self.store.open(self.key(self.part_key(0))) as handle:
            return tuple(pq.ParquetFile(handle).schema_arrow.names)

    @staticmethod
    def part_key(index: int) -> str:
        return f"part-{index:06d}.parquet"

    def _read_manifest(self) -> dict[str, Any]:
        try:
            with self.store.open(self.key(MANIFEST)) as handle:
                data = json.loads(handle.read())
        except ValueError:
            return {}  # unreadable: matches nothing, restart needed to discard
        return data if isinstance(data, dict) else {}
