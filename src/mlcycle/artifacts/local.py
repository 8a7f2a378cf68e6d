"""Artifacts on the local file system, addressed by slash-separated keys."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from mlcycle.errors import ArtifactNotFoundError, InvalidInputError

_BLOCK = 1 << 20


def check_key(key: str, *, field: str = "artifact_path") -> str:
    """Normalise a relative artifact key; reject absolute paths and ``..``."""
    key = key.replace("\\", "/").strip("/")
    parts = PurePosixPath(key).parts
    if not key or any(p in ("..", ".") for p in parts) or ":" in key.split("/")[0]:
        raise InvalidInputError(
            f"artifact path {key!r} must be a relative path without '..'", field=field
        )
    return "/".join(parts)


class LocalArtifactStore:
    """Files under one root directory. Writes go to a temporary file first, then a rename,
    so a reader never sees half a file.

    >>> store = LocalArtifactStore("/tmp/artifacts")  # doctest: +SKIP
    >>> size, sha = store.put_file("runs/abc/model.pkl", "model.pkl")  # doctest: +SKIP
    """

    def __init__(self, root: str | Path) -> None:
        root = str(root)
        if root.startswith("file://"):
            root = root[len("file://") :]
        elif "://" in root:
            # Never a folder named "s3:" in the working directory: a URI this store cannot
            # write to is refused before anything is written.
            scheme = root.split("://", 1)[0]
            raise InvalidInputError(
                f"artifact URI {root!r}: the scheme {scheme + '://'!r} is not supported; "
                "use a local directory or a file:// URI",
                field="artifact_uri",
            )
        self.root = Path(root).expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_stream(self, key: str, source: BinaryIO) -> tuple[int, str]:
        """Copy a readable binary stream to ``key``; returns (size, sha256 hex)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                while block := source.read(_BLOCK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def put_file(self, key: str, source: str | Path) -> tuple[int, str]:
        """Copy a local file to ``key``; returns (size, sha256 hex)."""
        try:
            with open(source, "rb") as handle:
                return self.put_stream(key, handle)
        except FileNotFoundError as exc:
            raise InvalidInputError(f"no file at {str(source)!r}", field="path") from exc
        except IsADirectoryError as exc:
            raise InvalidInputError(
                f"{str(source)!r} is a directory; use log_artifacts for directories", field="path"
            ) from exc

    def put_bytes(self, key: str, data: bytes) -> tuple[int, str]:
        """Store ``data`` at ``key``; returns (size, sha256 hex)."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
        return len(data), hashlib.sha256(data).hexdigest()

    def open(self, key: str) -> BinaryIO:
        """Open the artifact for reading in binary mode."""
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ArtifactNotFoundError(f"no artifact at {key!r}", field="artifact_path") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise ArtifactNotFoundError(f"no artifact at {key!r}", field="artifact_path") from exc

    def local_path(self, key: str) -> Path:
        """Where the bytes of ``key`` are on this disk (for zero-copy reads)."""
        return self._path(key)

    def download(self, key: str, dest: str | Path) -> Path:
        """Copy one artifact to ``dest`` (a file path) and return it."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.open(key) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, _BLOCK)
        return dest

    def iter_keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix``, sorted."""
        base = self._path(prefix)
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                yield path.relative_to(self.root).as_posix()

    def open_write(self, key: str) -> BinaryIO:
        """Open ``key`` for writing (binary, truncated). Readers can see a partial file:
        write under a temporary key and :meth:`rename` it when complete."""
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "wb")

    def rename(self, source: str, target: str) -> None:
        """Move ``source`` to ``target`` atomically (replacing it)."""
        dest = self._path(target)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(self._path(source), dest)
        except FileNotFoundError as exc:
            raise ArtifactNotFoundError(
                f"no artifact at {source!r}", field="artifact_path"
            ) from exc

    def delete(self, key: str) -> None:
        """Remove one artifact (no error when it is not there)."""
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        """A ``file://`` URI of ``key``."""
        return self._path(key).as_uri()

    def delete_prefix(self, prefix: str) -> None:
        """Remove everything under ``prefix`` (no error when there is nothing)."""
        shutil.rmtree(self._path(prefix), ignore_errors=True)
