"""The finished chunks of a batch job, kept beside the output until the job completes.

For an output ``preds.parquet`` the folder ``preds.parquet.parts/`` holds:

* ``manifest.json`` - what the job computes: the input's fingerprint, the model (URI,
  version, digest of its files), the chunk size and the output options. A later run
  resumes only when its manifest is the same.
* ``chunk-000042.arrow`` - the output rows of chunk 42, as an Arrow IPC file. Each is
  written under a temporary name and renamed when complete, so a part that exists is
  whole, even after ``kill -9``; a run resumed later skips these chunks.
* ``.output.parquet.tmp`` - the output being assembled, renamed to the output at the end.

>>> store = PartStore(Path("preds.parquet"))  # doctest: +SKIP
>>> finished = store.open({"chunk_rows": 100_000, ...}, restart=False)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.ipc as ipc  # type: ignore[import-untyped,unused-ignore]

from mlcycle.errors import ConflictError, InvalidInputError

MANIFEST = "manifest.json"
FORMAT = 1
_PART = re.compile(r"^chunk-(\d{6,})\.arrow$")

#: Manifest keys, and how a mismatch is told to the user.
_WHAT = {
    "format": "parts format",
    "input": "input",
    "model": "model",
    "chunk_rows": "chunk size",
    "output": "output options (kept columns, probabilities, model columns)",
}


def manifest_differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    """What differs between two job manifests, for messages ("model and chunk size")."""
    differs = [_WHAT.get(k, k) for k in _WHAT if current.get(k) != wanted.get(k)]
    return " and ".join(differs) or "manifest"


def parts_dir(output: Path) -> Path:
    """Where the finished chunks of the job writing ``output`` are kept."""
    return output.with_name(output.name + ".parts")


class PartStore:
    """The ``<output>.parts`` folder of one batch job."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.path = parts_dir(output)

    def open(self, manifest: Mapping[str, Any], *, restart: bool) -> dict[int, int]:
        """Start or resume the job described by ``manifest``; returns the finished chunks
        (index -> rows).

        Raises ConflictError when finished parts of a job with another manifest are there
        (naming what differs), unless ``restart``, which discards them.
        """
        wanted = json.loads(json.dumps({"format": FORMAT, **manifest}, sort_keys=True))
        current = self._read_manifest()
        if current is not None and current != wanted and not restart:
            count = len(self.finished())
            raise ConflictError(
                f"'{self.path}' holds {count} finished chunk(s) of a job with a different "
                f"{manifest_differences(current, wanted)}; rerun with the same arguments to "
                "resume, or with --restart (restart=True) to discard them",
                field="restart",
            )
        if current is None or current != wanted:
            if self.path.exists():
                self._discard()
            self.path.mkdir(parents=True)
            self._write_manifest(wanted)
            return {}
        for stale in self.path.glob(".*.tmp"):  # left by a run that was killed
            stale.unlink(missing_ok=True)
        return self.finished()

    @property
    def temp_output(self) -> Path:
        """Where the output is assembled before it is renamed into place."""
        return self.path / ".output.parquet.tmp"

    def finished(self) -> dict[int, int]:
        """The finished chunks on disk: index -> number of rows."""
        if not self.path.is_dir():
            return {}
        done: dict[int, int] = {}
        for entry in os.scandir(self.path):
            match = _PART.match(entry.name)
            if not match:
                continue
            try:
                with pa.memory_map(entry.path) as source:
                    reader = ipc.open_file(source)
                    rows = sum(
                        reader.get_batch(i).num_rows for i in range(reader.num_record_batches)
                    )
            except (OSError, pa.ArrowException):  # damaged on disk: compute it again
                Path(entry.path).unlink(missing_ok=True)
                continue
            done[int(match.group(1))] = rows
        return done

    def write(self, index: int, table: pa.Table) -> None:
        """Store the output rows of chunk ``index`` (complete or not at all)."""
        final = self._part(index)
        temp = self.path / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            with pa.OSFile(str(temp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def read(self, index: int) -> pa.Table:
        """The output rows of finished chunk ``index`` (memory-mapped, not copied)."""
        with pa.memory_map(str(self._part(index))) as source:
            return ipc.open_file(source).read_all()

    def remove(self) -> None:
        """Delete the folder (the job is complete)."""
        shutil.rmtree(self.path, ignore_errors=True)

    def _part(self, index: int) -> Path:
        return self.path / f"chunk-{index:06d}.arrow"

    def _read_manifest(self) -> dict[str, Any] | None:
        file = self.path / MANIFEST
        if not self.path.exists():
            return None
        if not self.path.is_dir():
            raise InvalidInputError(
                f"'{self.path}' is in the way of the job's parts folder: move it",
                field="output",
            )
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError):
            return {}  # an unreadable manifest matches nothing: restart needed to discard
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, manifest: Mapping[str, Any]) -> None:
        temp = self.path / f".{MANIFEST}.tmp"
        temp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(temp, self.path / MANIFEST)

    def _discard(self) -> None:
        if (self.path / MANIFEST).is_file() or not any(self.path.iterdir()):
            shutil.rmtree(self.path)
            return
        raise InvalidInputError(
            f"'{self.path}' exists but is not a batch job's parts folder (no {MANIFEST}); "
            "move it out of the way",
            field="output",
        )
