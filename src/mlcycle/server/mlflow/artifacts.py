"""Artifacts for MLflow clients: ``artifacts/list`` and the artifact proxy
``/api/2.0/mlflow-artifacts/artifacts`` (upload, download, list, delete).

Bytes stream through the server in both directions (never held whole in memory). A proxy
path naming a run's artifacts (see :mod:`.uris`) reads and writes that run's artifacts in
mlcycle's store and index; other paths are the MLflow artifact area. MLflow's multipart
uploads and presigned URLs are not offered: ``/api/3.0/mlflow/server-info`` says so, and
MLflow's client then uploads and downloads through the proxy. The same answer announces
mlcycle's direct transfers (``direct_transfers``) when the artifact store signs URLs.
"""

from __future__ import annotations

import mimetypes
import posixpath
import string
from collections.abc import Iterator
from typing import Any, BinaryIO, cast
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from mlcycle.entities import ArtifactInfo
from mlcycle.errors import ArtifactNotFoundError, NotFoundError
from mlcycle.server.mlflow import uris
from mlcycle.server.mlflow.context import MlflowContext, context
from mlcycle.server.mlflow.protocol import (
    NOT_IMPLEMENTED,
    MlflowError,
    Params,
    answer_error,
    error_response,
    json_response,
)
from mlcycle.server.mlflow.routing import Endpoints
from mlcycle.server.mlflow.runs import run_id_of
from mlcycle.server.routes.artifacts import _check_path, _UploadReader

endpoints = Endpoints()
route = endpoints.route
proxy = APIRouter()

PROXY_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
_BLOCK = 1 << 20
#: Files MLflow serves as text/plain (by extension, or by name when they have none).
_TEXT = frozenset(
    {
        "txt",
        "log",
        "err",
        "cfg",
        "conf",
        "cnf",
        "cf",
        "ini",
        "properties",
        "prop",
        "hocon",
        "toml",
        "yaml",
        "yml",
        "xml",
        "json",
        "js",
        "py",
        "py3",
        "csv",
        "tsv",
        "md",
        "rst",
        "ipynb",
        "MLmodel",
        "mlproject",
    }
)
_TOKEN = frozenset("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)


def media_type(path: str) -> str:
    """The Content-Type MLflow gives a downloaded artifact."""
    name = posixpath.basename(path)
    extension = posixpath.splitext(name)[1].lstrip(".") or name
    if extension in _TEXT:
        return "text/plain"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def attachment(path: str) -> dict[str, str]:
    """The headers of a download: always an attachment (a browser must not render an
    artifact on the server's origin), never sniffed."""
    name = posixpath.basename(path) or "download"
    if all(c in _TOKEN for c in name):
        disposition = f"attachment; filename={name}"
    elif name.isascii():
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        disposition = f'attachment; filename="{quoted}"'
    else:
        fallback = name.encode("ascii", "ignore").decode() or "download"
        disposition = (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
        )
    return {
        # set as given: Starlette would add "; charset=utf-8" to a text media type
        "Content-Type": media_type(path),
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
    }


def safe_path(path: str) -> str:
    clean = path.strip("/")
    parts = clean.split("/")
    if any(part in ("..", ".") for part in parts) or "\\" in clean or clean.startswith("~"):
        raise MlflowError("Invalid path")  # MLflow's words, which its clients compare
    return clean


def _entries(files: list[ArtifactInfo], folder: str) -> list[dict[str, Any]]:
    out = []
    for path, is_dir, size in uris.children(files, folder):
        entry: dict[str, Any] = {"path": path, "is_dir": is_dir}
        if not is_dir:
            entry["file_size"] = size or 0
        out.append(entry)
    return out


@route("/artifacts/list", "GET")
def list_artifacts(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    """The entries directly in the folder ``path`` of a run's artifacts."""
    run = ctx.tracking.get_run(run_id_of(p))
    folder = safe_path(p.text("path") or "")
    files = ctx.tracking.list_artifacts(run.id, folder or None)
    return {"root_uri": uris.run_root(run.experiment_id, run.id), "files": _entries(files, folder)}


# -- the proxy ------------------------------------------------------------------------------


def _files(ctx: MlflowContext, target: uris.Target) -> list[ArtifactInfo]:
    if target.run_id is not None:
        return ctx.tracking.list_artifacts(target.run_id, target.path or None)
    return ctx.records.artifacts(target.path)


def _target(ctx: MlflowContext, path: str) -> uris.Target:
    """What a proxy path names; a run path whose run does not exist is an area path."""
    clean = safe_path(path)
    target = uris.split_proxy_path(clean)
    if target.run_id is not None:
        try:
            ctx.tracking.get_run(target.run_id)
        except NotFoundError:
            return uris.Target(clean)
    return target


def _list(ctx: MlflowContext, path: str) -> dict[str, Any]:
    target = _target(ctx, path)
    entries = _entries(_files(ctx, target), target.path)
    for entry in entries:
        entry["path"] = posixpath.basename(entry["path"])
    return {"files": entries}


def _upload(ctx: MlflowContext, path: str, reader: BinaryIO) -> None:
    target = _target(ctx, path)
    if not target.path:
        raise MlflowError(f"Invalid path {path!r}: it names a folder, not a file")
    if target.run_id is not None:
        ctx.tracking.log_artifact_stream(target.run_id, _check_path(target.path), reader)
        return
    clean = _check_path(target.path)
    size, sha = ctx.area_store.put_stream(ctx.area_key(clean), reader)
    info = ArtifactInfo(path=clean, is_dir=False, size=size, sha256=sha)
    ctx.records.record_artifact(info, at=ctx.tracking.clock())


def _open(ctx: MlflowContext, path: str) -> tuple[BinaryIO, ArtifactInfo]:
    target = _target(ctx, path)
    found = [f for f in _files(ctx, target) if f.path == target.path]
    if not target.path or not found:
        raise ArtifactNotFoundError(f"No artifact at {path!r}", field="path")
    if target.run_id is not None:
        return ctx.tracking.open_artifact(target.run_id, target.path), found[0]
    return ctx.area_store.open(ctx.area_key(target.path)), found[0]


def _delete(ctx: MlflowContext, path: str) -> None:
    target = _target(ctx, path)
    if target.run_id is not None:
        gone = ctx.records.delete_run_artifacts(target.run_id, target.path)
        # the tracking service keeps a run's files under runs/<run_id>/ in the store
        for p in gone:
            ctx.tracking.artifact_store.delete(f"runs/{target.run_id}/{p}")
    else:
        for p in ctx.records.delete_artifacts(target.path):
            ctx.area_store.delete(ctx.area_key(p))


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while block := handle.read(_BLOCK):
            yield block


async def list_proxy(request: Request) -> Response:
    try:
        path = request.query_params.get("path") or ""
        return json_response(await run_in_threadpool(_list, context(request), path))
    except Exception as exc:
        return answer_error(exc, "the artifact listing")


async def upload(request: Request) -> Response:
    path = request.path_params["path"]
    try:
        reader = _UploadReader(request.stream(), None, request.state.telemetry)
        await run_in_threadpool(_upload, context(request), path, cast(BinaryIO, reader))
    except Exception as exc:
        return answer_error(exc, f"the upload of {path!r}")
    return json_response({})


async def download(request: Request) -> Response:
    path = request.path_params["path"]
    try:
        handle, info = await run_in_threadpool(_open, context(request), path)
    except Exception as exc:
        return answer_error(exc, f"the download of {path!r}")
    headers = {"Content-Length": str(info.size or 0), **attachment(path)}
    return StreamingResponse(_blocks(handle), headers=headers)


async def delete(request: Request) -> Response:
    path = request.path_params["path"]
    try:
        await run_in_threadpool(_delete, context(request), path)
    except Exception as exc:
        return answer_error(exc, f"the deletion of {path!r}")
    return json_response({})


async def multipart(request: Request) -> Response:
    return error_response(
        NOT_IMPLEMENTED, "multipart uploads are not offered; upload through the proxy (PUT)"
    )


async def server_info(request: Request) -> Response:
    """What MLflow's client asks before choosing how to move artifacts.

    MLflow's own presigned protocols (multipart ``mpu/*``, ``presigned_uploads_enabled``)
    are not offered, so an MLflow client keeps using the proxy; whether this server hands
    out presigned URLs for mlcycle's direct transfers (its artifact store is a bucket) is
    announced in ``direct_transfers``. The proxy always stays, so ``artifacts_presigned_only``
    is false either way.
    """
    signs = callable(getattr(context(request).tracking.artifact_store, "presigned_url", None))
    return json_response(
        {
            "store_type": "SqlStore",
            "artifact_serving_enabled": True,
            "workspaces_enabled": False,
            "trace_archival_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "presigned_uploads_enabled": False,
            "presigned_downloads_enabled": False,
            "artifacts_presigned_only": False,
            "presigned_upload_run_id_supported": False,
            "presigned_upload_model_id_supported": False,
            "model_artifact_presigned_downloads_supported": False,
            "direct_transfers": {
                "enabled": signs,
                "upload": "/api/v1/runs/{run_id}/artifacts-direct" if signs else None,
                "download": "/api/v1/runs/{run_id}/artifacts/{path}?direct=true" if signs else None,
            },
            "features_enabled": {"gateway": False},
        }
    )


for _prefix in PROXY_PREFIXES:
    base = f"{_prefix}/artifacts"
    proxy.add_api_route(base, list_proxy, methods=["GET"], include_in_schema=False)
    proxy.add_api_route(base + "/{path:path}", upload, methods=["PUT"], include_in_schema=False)
    proxy.add_api_route(base + "/{path:path}", download, methods=["GET"], include_in_schema=False)
    proxy.add_api_route(base + "/{path:path}", delete, methods=["DELETE"], include_in_schema=False)
    proxy.add_api_route(
        _prefix + "/mpu/{action}/{path:path}", multipart, methods=["POST"], include_in_schema=False
    )
for _info in ("/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"):
    proxy.add_api_route(_info, server_info, methods=["GET"], include_in_schema=False)
