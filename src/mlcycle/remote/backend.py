"""``RemoteBackend``: the tracking backend over HTTP, for ``MLCYCLE_TRACKING_URI=http://...``.

It implements :class:`mlcycle.ports.backend.TrackingBackend`, so ``mlcycle.Client``, runs
and the CLI work against a server unchanged. Metrics arrive here from the background
writer in bulk and leave in one compressed binary request per batch of batches, with an
``Idempotency-Key`` that stays the same on every retry of those points (also on the next
``flush()`` after a failed one), so nothing is stored twice and nothing unsent is dropped.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote

import httpx
import orjson

from mlcycle.codec.metric_batches import (
    BATCHES_MEDIA_TYPE,
    SERIES_MEDIA_TYPE,
    decode_series,
    encode_batches,
)
from mlcycle.entities import (
    ArtifactInfo,
    Experiment,
    MetricBatch,
    MetricHistory,
    Problem,
    Run,
    RunPage,
    RunStatus,
)
from mlcycle.errors import ConflictError, InvalidInputError, NotFoundError, RemoteError
from mlcycle.remote import decode
from mlcycle.remote.filters import render_filter, render_order_by
from mlcycle.remote.http import HttpSession, RetryPolicy
from mlcycle.search import Filter, OrderBy

SHA256_HEADER = "X-Content-SHA256"
#: Files from this size up move straight between the client and object storage when the
#: server's artifact store can sign URLs (smaller ones are not worth the extra requests).
DIRECT_MIN_BYTES = 8 << 20
#: Points per ingest request; larger writes are split (each part with its own batch ID).
MAX_POINTS_PER_REQUEST = 1_000_000
_BLOCK = 1 << 20
_SPOOL = 8 << 20  # open_artifact keeps files up to this size in memory, larger ones on disk


def _seg(value: str) -> str:
    """One URL path segment. IDs never contain '/'; one that does names nothing."""
    if "/" in value or not value:
        raise NotFoundError(f"no object with ID {value!r}", field="id")
    return quote(value, safe="")


def _path(value: str) -> str:
    """A slash-separated path (artifact path, tag key) inside a URL. "." and ".." parts
    are escaped so that no HTTP library resolves them away: the server judges them."""
    return "/".join(
        part.replace(".", "%2E") if part in (".", "..") else quote(part, safe="")
        for part in value.split("/")
    )


@dataclass
class _Part:
    """Points sent in one request, under one batch ID kept across retries."""

    batch_id: str
    batches: list[MetricBatch]
    body: bytes | None = None
    sent: bool = False

    @property
    def points(self) -> int:
        return sum(len(b) for b in self.batches)


@dataclass
class _Unsent:
    """A failed ``log_metrics`` call: the batches it was given and how they were split."""

    batches: list[MetricBatch]
    parts: list[_Part]


def _split(batches: Sequence[MetricBatch], batch_id: str | None) -> list[_Part]:
    """Group batches into parts of at most MAX_POINTS_PER_REQUEST points."""
    parts: list[_Part] = []
    current: list[MetricBatch] = []
    size = 0
    for batch in batches:
        start = 0
        while start < len(batch):
            room = MAX_POINTS_PER_REQUEST - size
            piece = batch if start == 0 and len(batch) <= room else _slice(batch, start, room)
            current.append(piece)
            size += len(piece)
            start += len(piece)
            if size >= MAX_POINTS_PER_REQUEST:
                parts.append(_Part(uuid.uuid4().hex, current))
                current, size = [], 0
    if current:
        parts.append(_Part(uuid.uuid4().hex, current))
    if batch_id is not None:
        for i, part in enumerate(parts):
            part.batch_id = batch_id if len(parts) == 1 else f"{batch_id[:50]}-{i}"
    return parts


def _slice(batch: MetricBatch, start: int, count: int) -> MetricBatch:
    end = start + count
    return MetricBatch(
        key=batch.key,
        steps=batch.steps[start:end],
        timestamps=batch.timestamps[start:end],
        values=batch.values[start:end],
    )


class RemoteBackend:
    """Experiments, runs, metrics and artifacts on a tracking server.

    >>> backend = RemoteBackend("http://127.0.0.1:5000")  # doctest: +SKIP
    >>> client = mlcycle.Client(backend=backend)  # or MLCYCLE_TRACKING_URI  # doctest: +SKIP

    The constructor does no I/O; one keep-alive connection pool is opened on first use and
    shared by every thread. ``retry`` bounds how long an unreachable or failing server is
    retried before a :class:`RemoteError`.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.http = HttpSession(
            self.url, token=token, retry=retry, timeout=timeout, transport=transport
        )
        self._unsent: dict[str, _Unsent] = {}
        self._unsent_lock = threading.Lock()
        #: Whether files may move straight between this client and object storage: None
        #: until tried; False once the server's store cannot sign URLs or the bucket was
        #: out of this client's reach (then everything goes through the server's proxy).
        self.direct: bool | None = None

    def close(self) -> None:
        """Close the connections (a later call opens new ones)."""
        self.http.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return orjson.loads(self.http.request(method, path, **kwargs).content)

    # -- experiments -------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        *,
        problem: Problem | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Experiment:
        body = {
            "name": name,
            "problem": None if problem is None else _problem_json(problem),
            "description": description,
            "tags": dict(tags or {}),
        }
        return decode.experiment(self._json("POST", "/api/v1/experiments", json=body))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return decode.experiment(self._json("GET", f"/api/v1/experiments/{_seg(experiment_id)}"))

    def find_experiment(self, name: str) -> Experiment | None:
        found = self._json("GET", "/api/v1/experiments", params={"name": name})["experiments"]
        return decode.experiment(found[0]) if found else None

    def get_or_create_experiment(self, name: str) -> Experiment:
        body = {"name": name}
        return decode.experiment(self._json("POST", "/api/v1/experiments/get-or-create", json=body))

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        params = {"include_deleted": "true" if include_deleted else "false"}
        found = self._json("GET", "/api/v1/experiments", params=params)["experiments"]
        return [decode.experiment(e) for e in found]

    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        problem: Problem | None = None,
    ) -> Experiment:
        body: dict[str, Any] = {"name": name, "description": description}
        if problem is not None:
            body["problem"] = _problem_json(problem)
        path = f"/api/v1/experiments/{_seg(experiment_id)}"
        return decode.experiment(self._json("PATCH", path, json=body))

    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None:
        path = f"/api/v1/experiments/{_seg(experiment_id)}/tags"
        self.http.request("POST", path, json={"tags": dict(tags)})

    def delete_experiment(self, experiment_id: str) -> Experiment:
        path = f"/api/v1/experiments/{_seg(experiment_id)}"
        return decode.experiment(self._json("DELETE", path))

    def restore_experiment(self, experiment_id: str) -> Experiment:
        path = f"/api/v1/experiments/{_seg(experiment_id)}/restore"
        return decode.experiment(self._json("POST", path))

    # -- runs --------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_id: str | None = None,
        description: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "parent_id": parent_id,
            "description": description,
            "start_time": start_time,
        }
        return decode.run(self._json("POST", "/api/v1/runs", json=body))

    def get_run(self, run_id: str) -> Run:
        return decode.run(self._json("GET", f"/api/v1/runs/{_seg(run_id)}"))

    def end_run(
        self, run_id: str, status: RunStatus = RunStatus.FINISHED, *, error: str | None = None
    ) -> None:
        body = {"status": RunStatus(status).value, "error": error}
        self.http.request("POST", f"/api/v1/runs/{_seg(run_id)}/end", json=body)

    def update_run(
        self, run_id: str, *, name: str | None = None, description: str | None = None
    ) -> None:
        body = {"name": name, "description": description}
        self.http.request("PATCH", f"/api/v1/runs/{_seg(run_id)}", json=body)

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        body = {"params": {k: v if isinstance(v, str) else str(v) for k, v in params.items()}}
        self.http.request("POST", f"/api/v1/runs/{_seg(run_id)}/params", json=body)

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        body = {"tags": {k: v if isinstance(v, str) else str(v) for k, v in tags.items()}}
        self.http.request("POST", f"/api/v1/runs/{_seg(run_id)}/tags", json=body)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.http.request("DELETE", f"/api/v1/runs/{_seg(run_id)}/tags/{_path(key)}")

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Filter | str | None = None,
        order_by: Sequence[OrderBy] | Sequence[str] | str | None = None,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunPage:
        _, page = self._search({"experiment_ids": list(experiment_ids)}, filter, order_by,
                               max_results, page_token, include_deleted)  # fmt: skip
        return page

    def search_runs_in(
        self,
        experiments: Sequence[str],
        filter: Filter | str | None = None,
        order_by: Sequence[OrderBy] | Sequence[str] | str | None = None,
        *,
        max_results: int = 1000,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> tuple[list[str], RunPage]:
        return self._search({"experiments": list(experiments)}, filter, order_by,
                            max_results, page_token, include_deleted)  # fmt: skip

    def _search(
        self,
        which: dict[str, list[str]],
        filter: Filter | str | None,
        order_by: Sequence[OrderBy] | Sequence[str] | str | None,
        max_results: int,
        page_token: str | None,
        include_deleted: bool,
    ) -> tuple[list[str], RunPage]:
        """One POST /api/v1/runs/search (the experiments by ID, or by name or ID): the
        IDs the server searched, and the page."""
        if not 1 <= max_results <= 50_000:
            raise InvalidInputError("max_results must be between 1 and 50000", field="max_results")
        text = filter if filter is None or isinstance(filter, str) else render_filter(filter)
        body = {
            **which,
            "filter": text,
            "order_by": render_order_by(order_by),
            "max_results": max_results,
            "page_token": page_token,
            "include_deleted": include_deleted,
        }
        found = self._json("POST", "/api/v1/runs/search", json=body)
        page = RunPage(
            runs=[decode.run(r) for r in found["runs"]], next_page_token=found["next_page_token"]
        )
        return list(found.get("experiment_ids", [])), page

    def delete_runs(self, run_ids: Sequence[str]) -> None:
        self.http.request("POST", "/api/v1/runs/delete", json={"run_ids": list(run_ids)})

    def restore_runs(self, run_ids: Sequence[str]) -> None:
        self.http.request("POST", "/api/v1/runs/restore", json={"run_ids": list(run_ids)})

    def child_run_ids(self, run_id: str) -> list[str]:
        try:
            found = self._json("GET", f"/api/v1/runs/{_seg(run_id)}/children")
        except NotFoundError:
            return []  # as locally: an unknown run has no children
        return list(found["run_ids"])

    # -- metrics -----------------------------------------------------------------------

    def log_metrics(
        self, run_id: str, batches: Sequence[MetricBatch], *, batch_id: str | None = None
    ) -> None:
        """Send metric batches; durable on the server when this returns.

        The writer calls this again with the same batch objects first when a call fails;
        they are then sent under the batch IDs they had, so a batch the server stored but
        whose answer was lost is acknowledged, not stored twice.

        Raises:
            RemoteError: the server could not be reached within the retry budget; the
            message says how many points were not sent (the caller keeps them).
        """
        given = [b for b in batches if len(b)]
        parts = self._plan(run_id, given, batch_id)
        for part in parts:
            if part.sent:
                continue
            try:
                self._send(run_id, part)
            except RemoteError as exc:
                with self._unsent_lock:
                    self._unsent[run_id] = _Unsent(given, parts)
                unsent = sum(p.points for p in parts if not p.sent)
                raise RemoteError(
                    f"{exc.message}. {unsent:,} metric points of run {run_id} were not sent; "
                    "they are kept in memory and the next flush() sends them again"
                ) from exc
            part.sent = True

    def _plan(self, run_id: str, batches: list[MetricBatch], batch_id: str | None) -> list[_Part]:
        """Parts to send: a failed call's parts (same batch IDs) first, when the caller
        passes that call's batches again, then the new batches."""
        with self._unsent_lock:
            earlier = self._unsent.pop(run_id, None)
        if earlier is not None:
            n = len(earlier.batches)
            if len(batches) >= n and all(
                a is b for a, b in zip(batches[:n], earlier.batches, strict=True)
            ):
                return earlier.parts + _split(batches[n:], None)
        return _split(batches, batch_id)

    def _send(self, run_id: str, part: _Part) -> None:
        if part.body is None:
            part.body = encode_batches(part.batches)
        self.http.request(
            "POST",
            f"/api/v1/runs/{_seg(run_id)}/metrics/batches",
            content=part.body,
            headers={"Content-Type": BATCHES_MEDIA_TYPE, "Idempotency-Key": part.batch_id},
            idempotent=True,
        )

    def get_metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> MetricHistory:
        params: dict[str, Any] = {"key": key}
        if max_points is not None:
            if max_points < 2:
                raise InvalidInputError("max_points must be at least 2", field="max_points")
            params["max_points"] = max_points
        response = self.http.request(
            "GET",
            f"/api/v1/runs/{_seg(run_id)}/metrics/history",
            params=params,
            headers={"Accept": SERIES_MEDIA_TYPE},
        )
        steps, timestamps, values = decode_series(response.content)
        return MetricHistory(
            run_id=run_id, key=key, steps=steps, timestamps=timestamps, values=values
        )

    # -- artifacts ---------------------------------------------------------------------

    def log_artifact_file(
        self, run_id: str, local_path: str | Path, artifact_path: str
    ) -> ArtifactInfo:
        """Upload a file, streamed from disk, with its sha256 for the server to check."""
        source = Path(local_path)
        if source.is_dir():
            raise InvalidInputError(
                f"{str(source)!r} is a directory; use log_artifacts for directories", field="path"
            )
        try:
            size, sha = _hash_file(source)
        except FileNotFoundError as exc:
            raise InvalidInputError(f"no file at {str(source)!r}", field="path") from exc

        def blocks() -> Iterator[bytes]:
            with open(source, "rb") as handle:
                while block := handle.read(_BLOCK):
                    yield block

        if size >= DIRECT_MIN_BYTES and self.direct is not False:
            info = self._upload_direct(run_id, artifact_path.strip("/"), blocks, size, sha)
            if info is not None:
                return info
        return self._upload(run_id, artifact_path, blocks, size, sha)

    def _upload_direct(
        self,
        run_id: str,
        artifact_path: str,
        blocks: Callable[[], Iterator[bytes]],
        size: int,
        sha: str,
    ) -> ArtifactInfo | None:
        """Put a large file straight into the bucket with a presigned URL, then have the
        server check and record it; None when that is not possible from here."""
        base = f"/api/v1/runs/{_seg(run_id)}/artifacts-direct"
        try:
            grant = self._json("POST", base, json={"path": artifact_path})
        except ConflictError:  # the server's artifact store cannot sign URLs
            self.direct = False
            return None
        try:
            response = httpx.put(
                grant["url"],
                content=blocks(),
                headers={"Content-Length": str(size)},
                timeout=httpx.Timeout(300.0, connect=5.0),
            )
            response.raise_for_status()
        except httpx.HTTPError:  # the bucket is out of reach: the proxy it is, from now on
            self.direct = False
            return None
        self.direct = True
        found = self._json("POST", f"{base}/commit", json={"path": artifact_path, "sha256": sha})
        return decode.artifact(found)

    def log_artifact_bytes(self, run_id: str, artifact_path: str, data: bytes) -> ArtifactInfo:
        sha = hashlib.sha256(data).hexdigest()
        return self._upload(run_id, artifact_path, data, len(data), sha)

    def _upload(
        self,
        run_id: str,
        artifact_path: str,
        content: Any,
        size: int,
        sha: str,
    ) -> ArtifactInfo:
        response = self.http.request(
            "PUT",
            f"/api/v1/runs/{_seg(run_id)}/artifacts/{_path(artifact_path.strip('/'))}",
            content=content,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size),
                SHA256_HEADER: sha,
            },
        )
        info = decode.artifact(orjson.loads(response.content))
        if info.sha256 != sha:
            raise RemoteError(
                f"the server stored {artifact_path!r} with sha256 {info.sha256}, not {sha}"
            )
        return info

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ArtifactInfo]:
        params = {} if path is None else {"path": path}
        found = self._json("GET", f"/api/v1/runs/{_seg(run_id)}/artifacts", params=params)
        return [decode.artifact(f) for f in found["files"]]

    def _download_into(self, run_id: str, path: str, out: BinaryIO) -> None:
        """Stream the artifact into ``out`` and check its sha256: straight from the bucket
        when the server hands out a presigned URL, else through the server."""
        url = f"/api/v1/runs/{_seg(run_id)}/artifacts/{_path(path.strip('/'))}"
        digest = hashlib.sha256()
        params = None if self.direct is False else {"direct": "true"}
        with self.http.stream("GET", url, params=params) as response:
            expected = response.headers.get(SHA256_HEADER)
            location = response.headers.get("location") if response.status_code == 307 else None
            if location is None:
                for block in response.iter_bytes(_BLOCK):
                    digest.update(block)
                    out.write(block)
        if location is not None:
            try:
                self._fetch_direct(location, out, digest)
            except httpx.HTTPError:  # the bucket is out of reach: through the server instead
                self.direct = False
                out.seek(0)
                out.truncate()
                self._download_into(run_id, path, out)
                return
        if expected and digest.hexdigest() != expected:
            raise RemoteError(
                f"artifact {path!r} of run {run_id} arrived with sha256 {digest.hexdigest()}, "
                f"but the server stored {expected}: the download was corrupted"
            )

    @staticmethod
    def _fetch_direct(url: str, out: BinaryIO, digest: Any) -> None:
        """Stream a presigned URL into ``out`` (httpx errors when the bucket is not
        reachable from here)."""
        with httpx.stream("GET", url, timeout=httpx.Timeout(300.0, connect=5.0)) as got:
            got.raise_for_status()
            for block in got.iter_bytes(_BLOCK):
                digest.update(block)
                out.write(block)

    def open_artifact(self, run_id: str, path: str) -> BinaryIO:
        """The artifact's bytes, downloaded and checked (large files go to a temp file)."""
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (returned open)
        try:
            self._download_into(run_id, path, cast(BinaryIO, spool))
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return cast(BinaryIO, spool)

    def local_artifact_path(self, run_id: str, path: str) -> Path | None:
        """None: a server's artifacts are downloaded, never read in place."""
        return None

    def download_artifact(self, run_id: str, path: str, dest: str | Path) -> Path:
        """Stream one artifact to ``dest`` (a file path), checking its sha256."""
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                self._download_into(run_id, path, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    # -- maintenance -------------------------------------------------------------------

    def collect_garbage(self, older_than_ms: int) -> dict[str, int]:
        found = self._json("POST", "/api/v1/gc", json={"older_than_ms": older_than_ms})
        return {"runs": int(found["runs"]), "experiments": int(found["experiments"])}


def _problem_json(p: Problem) -> dict[str, Any]:
    return {
        "task": p.task.value,
        "target": p.target,
        "primary_metric": p.primary_metric,
        "direction": p.direction.value,
        "threshold": p.threshold,
    }


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()
