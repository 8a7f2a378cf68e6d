"""Artifacts in S3-compatible object storage (``s3://bucket/prefix``), on obstore.

obstore (Rust's ``object_store`` crate) was chosen over s3fs and boto3: it streams in and
out of Python without copies, uploads large files as concurrent multipart uploads, signs
URLs, and its import costs a few milliseconds (boto3's costs hundreds). ``make bench``
compares it with raw boto3 on the same server.

Endpoint, region and credentials come from the usual AWS variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ...). Every error
of the object store is translated here: a missing object is an
:class:`~mlcycle.errors.ArtifactNotFoundError`; a missing bucket, refused credentials or an
endpoint that does not answer is one :class:`~mlcycle.errors.ArtifactStoreError` naming the
URI, never a library traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, cast

import obstore
from obstore import exceptions as obs_errors
from obstore.store import S3Store
from typing_extensions import Buffer

from mlcycle.artifacts.local import check_key
from mlcycle.errors import ArtifactNotFoundError, ArtifactStoreError, InvalidInputError

#: Parts of a multipart upload (S3's minimum is 5 MiB) and how many go up at once.
PART_SIZE = 8 << 20
PART_CONCURRENCY = 8
_BLOCK = 1 << 20
#: Variables that hold credentials of some kind; with none of them and a custom endpoint,
#: the store refuses at once instead of asking a cloud instance-metadata service.
_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix").

    >>> parse_s3_uri("s3://models/team-a/")
    ('models', 'team-a')
    """
    if not uri.startswith("s3://"):
        raise InvalidInputError(f"{uri!r} is not an s3:// URI", field="artifact_uri")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise InvalidInputError(
            f"artifact URI {uri!r} names no bucket (s3://BUCKET/PREFIX)", field="artifact_uri"
        )
    return bucket, prefix.strip("/")


class S3ArtifactStore:
    """Files in one bucket under one prefix, addressed by slash-separated keys.

    >>> store = S3ArtifactStore("s3://mlcycle/team-a")  # doctest: +SKIP
    >>> size, sha = store.put_file("runs/abc/model.pkl", "model.pkl")  # doctest: +SKIP

    The constructor does no I/O. Uploads are single requests up to :data:`PART_SIZE`, then
    multipart; a failed upload leaves no object behind (S3 commits an object only when its
    upload completes), so no record can point at half a file.

    A request that fails on the way (a 5xx answer such as 503 Slow Down, a dropped
    connection, no answer within ``timeout_s``) is retried up to ``max_retries`` times with
    backoff, within ``retry_timeout_s`` in all; then the operation raises one
    :class:`~mlcycle.errors.ArtifactStoreError` naming the URI.
    """

    def __init__(
        self,
        uri: str,
        *,
        environ: Mapping[str, str] | None = None,
        timeout_s: float = 300.0,
        max_retries: int = 3,
        retry_timeout_s: float = 15.0,
    ) -> None:
        self.bucket, self.prefix = parse_s3_uri(uri)
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.retry_timeout_s = retry_timeout_s
        self.uri_root = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        env = os.environ if environ is None else environ
        self.endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        self._env = dict(env)
        self._store: S3Store | None = None
        self._bucket_seen = False

    # -- plumbing -----------------------------------------------------------------------------

    @property
    def store(self) -> S3Store:
        if self._store is None:
            self._store = self._open()
        return self._store

    def _open(self) -> S3Store:
        env = self._env
        if self.endpoint and not any(env.get(name) for name in _CREDENTIAL_VARIABLES):
            raise ArtifactStoreError(
                f"artifact store {self.uri_root}: no credentials for {self.endpoint}; set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                field="artifact_uri",
            )
        config: dict[str, str] = {}
        if self.endpoint:
            config["endpoint"] = self.endpoint
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            config["region"] = region
        if env.get("AWS_ACCESS_KEY_ID"):
            config["access_key_id"] = env["AWS_ACCESS_KEY_ID"]
            config["secret_access_key"] = env.get("AWS_SECRET_ACCESS_KEY", "")
            if env.get("AWS_SESSION_TOKEN"):
                config["session_token"] = env["AWS_SESSION_TOKEN"]
        try:
            return S3Store(
                self.bucket,
                prefix=self.prefix or None,
                config=cast("dict[str, object]", config),  # type: ignore[arg-type]
                client_options={
                    "allow_http": bool(self.endpoint and self.endpoint.startswith("http://")),
                    "connect_timeout": timedelta(seconds=5),
                    "timeout": timedelta(seconds=self.timeout_s),
                },
                retry_config={
                    "max_retries": self.max_retries,
                    "retry_timeout": timedelta(seconds=self.retry_timeout_s),
                    "backoff": {
                        "init_backoff": timedelta(milliseconds=100),
                        "max_backoff": timedelta(seconds=2),
                        "base": 2.0,
                    },
                },
            )
        except (obs_errors.BaseError, ValueError) as exc:
            raise ArtifactStoreError(
                f"artifact store {self.uri_root}: {_first_line(exc)}", field="artifact_uri"
            ) from exc

    @contextlib.contextmanager
    def _errors(self, key: str | None = None, *, streaming: bool = False) -> Iterator[None]:
        """Translate the object store's errors at this boundary. ``streaming``: around a
        read or write of an open object, whose failures obstore raises as plain OSError."""
        try:
            yield
        except (obs_errors.NotFoundError, FileNotFoundError) as exc:
            if key is not None and "NoSuchBucket" not in str(exc) and self._bucket_exists():
                raise ArtifactNotFoundError(
                    f"no artifact at {key!r}", field="artifact_path"
                ) from exc
            raise ArtifactStoreError(
                f"artifact store {self.uri_root}: the bucket {self.bucket!r} does not exist",
                field="artifact_uri",
            ) from exc
        except (
            obs_errors.UnauthenticatedError,
            obs_errors.PermissionDeniedError,
            PermissionError,
        ) as exc:
            raise ArtifactStoreError(
                f"artifact store {self.uri_root} refused the credentials "
                f"(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY): {_first_line(exc)}",
                field="artifact_uri",
            ) from exc
        except obs_errors.BaseError as exc:
            text = str(exc)
            if "NoSuchBucket" in text:
                raise ArtifactStoreError(
                    f"artifact store {self.uri_root}: the bucket {self.bucket!r} does not exist",
                    field="artifact_uri",
                ) from exc
            if "InvalidAccessKeyId" in text or "SignatureDoesNotMatch" in text:
                raise ArtifactStoreError(
                    f"artifact store {self.uri_root} refused the credentials "
                    "(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)",
                    field="artifact_uri",
                ) from exc
            raise self._failed(exc) from exc
        except OSError as exc:
            if not streaming:
                raise  # e.g. the local source of an upload went away: not the store's fault
            raise self._failed(exc) from exc

    def _failed(self, exc: BaseException) -> ArtifactStoreError:
        where = f" at {self.endpoint}" if self.endpoint else ""
        return ArtifactStoreError(
            f"artifact store {self.uri_root}{where} failed: {_first_line(exc)}",
            field="artifact_uri",
        )

    def _bucket_exists(self) -> bool:
        """Whether the bucket is there (a HEAD of a missing object cannot tell a missing
        bucket from a missing key: both are a bodiless 404). Asked only after a 404."""
        if self._bucket_seen:
            return True
        try:
            next(iter(obstore.list(self.store, chunk_size=1)), None)
        except (obs_errors.BaseError, OSError) as exc:
            return "NoSuchBucket" not in str(exc)
        self._bucket_seen = True
        return True

    # -- writing ------------------------------------------------------------------------------

    def put_stream(self, key: str, source: BinaryIO) -> tuple[int, str]:
        """Copy a readable binary stream to ``key``; returns (size, sha256 hex)."""
        key = check_key(key)
        digest = hashlib.sha256()
        size = 0

        def blocks() -> Iterator[bytes]:
            nonlocal size
            while block := source.read(PART_SIZE):
                digest.update(block)
                size += len(block)
                yield block

        with self._errors():
            obstore.put(
                self.store,
                key,
                blocks(),
                chunk_size=PART_SIZE,
                max_concurrency=PART_CONCURRENCY,
            )
        return size, digest.hexdigest()

    def put_file(self, key: str, source: str | Path) -> tuple[int, str]:
        """Copy a local file to ``key``; returns (size, sha256 hex)."""
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise InvalidInputError(f"no file at {str(source)!r}", field="path") from exc
        except IsADirectoryError as exc:
            raise InvalidInputError(
                f"{str(source)!r} is a directory; use log_artifacts for directories", field="path"
            ) from exc
        with handle:
            return self.put_stream(key, handle)

    def put_bytes(self, key: str, data: bytes) -> tuple[int, str]:
        """Store ``data`` at ``key``; returns (size, sha256 hex)."""
        key = check_key(key)
        with self._errors():
            obstore.put(self.store, key, data)
        return len(data), hashlib.sha256(data).hexdigest()

    def open_write(self, key: str) -> BinaryIO:
        """Open ``key`` for writing; the object appears only when the file is closed
        (a multipart upload completes), so readers never see part of it."""
        key = check_key(key)
        with self._errors():
            writer = obstore.open_writer(self.store, key, buffer_size=PART_SIZE)
        return cast(BinaryIO, _Writer(writer, self, key))

    def rename(self, source: str, target: str) -> None:
        """Move ``source`` to ``target`` (a server-side copy, then a delete)."""
        source, target = check_key(source), check_key(target)
        with self._errors(source):
            obstore.rename(self.store, source, target)

    # -- reading ------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        """Open the artifact for streaming reads (seekable; ranged GETs underneath)."""
        key = check_key(key)
        with self._errors(key):
            reader = obstore.open_reader(self.store, key, buffer_size=_BLOCK * 8)
        return cast(BinaryIO, io.BufferedReader(_Reader(reader, self, key), _BLOCK))

    def exists(self, key: str) -> bool:
        key = check_key(key)
        try:
            with self._errors(key):
                obstore.head(self.store, key)
        except ArtifactNotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        key = check_key(key)
        with self._errors(key):
            return int(obstore.head(self.store, key)["size"])

    def local_path(self, key: str) -> Path | None:
        """None: nothing of an object store is on this disk."""
        return None

    def download(self, key: str, dest: str | Path) -> Path:
        """Copy one artifact to ``dest`` (a file path) and return it: ranges of
        :data:`PART_SIZE`, :data:`PART_CONCURRENCY` in flight at a time, each written at its
        offset as it arrives (so memory holds a few parts); ``dest`` appears only once
        complete."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        key = check_key(key)
        size = self.size(key)
        partial = dest.with_name(f".{dest.name}.part")
        try:
            with open(partial, "wb") as out:
                if hasattr(os, "pwrite") and not _loop_running():
                    with self._errors(key):
                        asyncio.run(self._fetch_parts(key, out.fileno(), size))
                else:
                    self._fetch_windows(key, out, size)
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
        return dest

    async def _fetch_parts(self, key: str, fd: int, size: int) -> None:
        # Each range is its own request (obstore's get_ranges would merge adjacent ranges
        # into one GET): a sliding window of PART_CONCURRENCY, like boto3's transfer.
        slots = asyncio.Semaphore(PART_CONCURRENCY)

        async def part(start: int) -> None:
            async with slots:
                data = await obstore.get_range_async(
                    self.store, key, start=start, end=min(size, start + PART_SIZE)
                )
                os.pwrite(fd, memoryview(data), start)

        await asyncio.gather(*(part(start) for start in range(0, size, PART_SIZE)))

    def _fetch_windows(self, key: str, out: BinaryIO, size: int) -> None:
        """The same by windows of ranges, for a caller inside an event loop."""
        window = PART_SIZE * PART_CONCURRENCY
        for start in range(0, size, window):
            end = min(size, start + window)
            starts = list(range(start, end, PART_SIZE))
            ends = [min(s + PART_SIZE, end) for s in starts]
            with self._errors(key):
                parts = obstore.get_ranges(self.store, key, starts=starts, ends=ends)
            for part in parts:
                out.write(memoryview(part))

    def iter_keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (a folder: ``runs/a`` never lists ``runs/ab``), sorted."""
        prefix = check_key(prefix)
        keys: list[str] = []
        with self._errors():
            for page in obstore.list(self.store, prefix=prefix):
                keys.extend(str(meta["path"]) for meta in page)
        yield from sorted(keys)

    # -- deleting -----------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        """Remove one artifact (no error when it is not there)."""
        key = check_key(key)
        with contextlib.suppress(ArtifactNotFoundError), self._errors(key):
            obstore.delete(self.store, key)

    def delete_prefix(self, prefix: str) -> None:
        """Remove everything under ``prefix`` (no error when there is nothing)."""
        keys = list(self.iter_keys(prefix))
        for start in range(0, len(keys), 1000):
            with self._errors():
                obstore.delete(self.store, keys[start : start + 1000])

    # -- addressing ---------------------------------------------------------------------------

    def uri(self, key: str) -> str:
        """The ``s3://`` URI of ``key``."""
        return f"{self.uri_root}/{check_key(key)}"

    def presigned_url(self, key: str, *, method: str = "GET", expires_s: int = 3600) -> str:
        """A URL that lets its holder GET (or PUT) ``key`` directly for ``expires_s``."""
        if method not in ("GET", "PUT"):
            raise InvalidInputError(f"method must be GET or PUT, not {method!r}", field="method")
        key = check_key(key)
        with self._errors(key):
            return obstore.sign(
                self.store,
                "GET" if method == "GET" else "PUT",
                key,
                timedelta(seconds=expires_s),
            )


class _Reader(io.RawIOBase):
    """A readable raw stream over obstore's reader, its errors translated."""

    def __init__(self, reader: obstore.ReadableFile, owner: S3ArtifactStore, key: str) -> None:
        self._reader = reader
        self._owner = owner
        self._key = key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        with self._owner._errors(self._key, streaming=True):
            data = self._reader.read(len(buffer))
        n = len(data)
        buffer[:n] = memoryview(data)
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._reader.seek(offset, whence)

    def tell(self) -> int:
        return self._reader.tell()

    def close(self) -> None:
        if not self.closed:
            self._reader.close()
        super().close()


class _Writer(io.RawIOBase):
    """A writable raw stream over obstore's multipart writer, its errors translated."""

    def __init__(self, writer: obstore.WritableFile, owner: S3ArtifactStore, key: str) -> None:
        self._writer = writer
        self._owner = owner
        self._key = key
        self._written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Buffer) -> int:
        view = memoryview(data)
        with self._owner._errors(streaming=True):
            self._writer.write(view.tobytes())
        self._written += view.nbytes
        return view.nbytes

    def close(self) -> None:
        if not self.closed:
            with self._owner._errors(streaming=True):
                self._writer.close()
        super().close()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
