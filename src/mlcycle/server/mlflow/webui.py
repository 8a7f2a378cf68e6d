"""The endpoints MLflow's web UI and its clients call beside the REST API: dataset search
(``experiments/search-datasets``), ``upload-artifact`` (a small file into a run),
``get-artifact``, ``model-versions/get-artifact`` and ``logged-models/<id>/artifacts/files``
(a file of a run, of a model version or of a logged model).

Files stream from mlcycle's artifact store; an upload is at most 10 MB, as in MLflow.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from mlcycle.errors import ArtifactNotFoundError
from mlcycle.server.mlflow import logged_models
from mlcycle.server.mlflow.artifacts import attachment, safe_path
from mlcycle.server.mlflow.context import MlflowContext, context
from mlcycle.server.mlflow.protocol import MlflowError, Params, answer_error, json_response
from mlcycle.server.mlflow.routing import Endpoints
from mlcycle.server.routes.artifacts import _check_path

endpoints = Endpoints()
route = endpoints.route
router = APIRouter()

MAX_DATASET_EXPERIMENTS = 20
MAX_DATASET_SUMMARIES = 1000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DATASET_CONTEXT = "mlflow.data.context"
_BLOCK = 1 << 20


@route("/experiments/search-datasets", "POST")
def search_datasets(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    """The distinct datasets (name, digest, context) the runs of experiments used."""
    experiment_ids = p.strs("experiment_ids")
    if not experiment_ids:
        raise MlflowError("SearchDatasets request must specify at least one experiment_id.")
    if len(experiment_ids) > MAX_DATASET_EXPERIMENTS:
        raise MlflowError(
            f"SearchDatasets request cannot specify more than {MAX_DATASET_EXPERIMENTS} "
            f"experiment_ids. Received {len(experiment_ids)} experiment_ids."
        )
    summaries: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str | None]] = set()
    for given in experiment_ids:
        experiment_id = ctx.experiment_id(given)
        run_ids = ctx.tracking.store.runs.ids(experiment_ids=[experiment_id])
        for datasets in ctx.records.run_datasets(run_ids).values():
            for dataset in datasets:
                context_tag = dataset.tags.get(DATASET_CONTEXT)
                key = (given, dataset.name, dataset.digest, context_tag)
                if key in seen or len(summaries) >= MAX_DATASET_SUMMARIES:
                    continue
                seen.add(key)
                summary = {"experiment_id": given, "name": dataset.name, "digest": dataset.digest}
                if context_tag is not None:
                    summary["context"] = context_tag
                summaries.append(summary)
    return {"dataset_summaries": summaries}


def _upload(ctx: MlflowContext, run_id: str, path: str, data: bytes) -> None:
    ctx.tracking.get_run(run_id)
    ctx.tracking.log_artifact_stream(run_id, path, io.BytesIO(data))


async def upload_artifact(request: Request) -> Response:
    """``POST /ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=`` with the file as body."""
    try:
        run_id = request.query_params.get("run_uuid")
        if not run_id:
            raise MlflowError("Request must specify run_uuid.")
        path = request.query_params.get("path")
        if not path:
            raise MlflowError("Request must specify path.")
        clean = _safe_path(path)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
            raise MlflowError("Artifact size is too large. Max size is 10MB.")
        data = bytearray()
        async for block in request.stream():
            data.extend(block)
            if len(data) > MAX_UPLOAD_BYTES:
                raise MlflowError("Artifact size is too large. Max size is 10MB.")
        if not data:
            raise MlflowError("Request must specify data.")
        await run_in_threadpool(_upload, context(request), run_id, clean, bytes(data))
    except Exception as exc:
        return answer_error(exc, "the artifact upload")
    return json_response({})


def _safe_path(path: str) -> str:
    return _check_path(safe_path(path))


def _run_file(ctx: MlflowContext, run_id: str, path: str) -> tuple[BinaryIO, int]:
    clean = _safe_path(path)
    found = [f for f in ctx.tracking.list_artifacts(run_id, clean) if f.path == clean]
    if not found or found[0].is_dir:
        raise ArtifactNotFoundError(f"No artifact at {path!r} in run {run_id}", field="path")
    return ctx.tracking.open_artifact(run_id, clean), found[0].size or 0


def _version_file(ctx: MlflowContext, name: str, number: int, path: str) -> tuple[BinaryIO, int]:
    _safe_path(path)  # a bad path is refused before the version is looked up
    version = ctx.registry.get_version(name, number)
    if version.run_id and version.artifact_path:
        inside = posixpath.join(version.artifact_path, _safe_path(path))
        return _run_file(ctx, version.run_id, inside)
    extras = ctx.records.version_extras(name).get(number)
    if extras is not None and extras.model_id:
        model = logged_models.get_model(ctx, extras.model_id, allow_deleted=True)
        if model.files_run_id is not None:
            inside = posixpath.join(model.artifact_path, _safe_path(path))
            return _run_file(ctx, model.files_run_id, inside)
    raise ArtifactNotFoundError(
        f"model version {name} {number} has no files on this server", field="path"
    )


def _logged_model_file(ctx: MlflowContext, model_id: str, path: str) -> tuple[BinaryIO, int]:
    model = logged_models.get_model(ctx, model_id)
    inside = posixpath.join(model.artifact_path, _safe_path(path))
    if model.files_run_id is not None:
        return _run_file(ctx, model.files_run_id, inside)
    found = [f for f in ctx.records.artifacts(inside) if f.path == inside]
    if not found:
        raise ArtifactNotFoundError(f"No artifact at {path!r} in logged model {model_id}")
    return ctx.area_store.open(ctx.area_key(inside)), found[0].size or 0


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while block := handle.read(_BLOCK):
            yield block


def _send(handle: BinaryIO, size: int, path: str) -> Response:
    headers = {"Content-Length": str(size), **attachment(path)}
    return StreamingResponse(_blocks(handle), headers=headers)


async def get_artifact(request: Request) -> Response:
    """``GET /get-artifact?run_uuid=&path=``: one file of a run."""
    query = request.query_params
    path = query.get("path") or ""
    try:
        run_id = query.get("run_id") or query.get("run_uuid") or ""
        p = Params({"run_id": run_id, "path": path})
        handle, size = await run_in_threadpool(
            _run_file, context(request), p.req("run_id"), p.req("path")
        )
    except Exception as exc:
        return answer_error(exc, "the artifact download")
    return _send(handle, size, path)


async def get_version_artifact(request: Request) -> Response:
    """``GET /model-versions/get-artifact?name=&version=&path=``: one file of a version."""
    query = request.query_params
    path = query.get("path") or ""
    try:
        p = Params({"name": query.get("name"), "version": query.get("version"), "path": path})
        number = p.integer("version", required=True)
        assert number is not None
        handle, size = await run_in_threadpool(
            _version_file, context(request), p.req("name"), number, p.req("path")
        )
    except Exception as exc:
        return answer_error(exc, "the model version artifact download")
    return _send(handle, size, path)


router.add_api_route(
    "/ajax-api/2.0/mlflow/upload-artifact",
    upload_artifact,
    methods=["POST"],
    include_in_schema=False,
)


async def get_logged_model_artifact(request: Request) -> Response:
    """``GET .../logged-models/<model_id>/artifacts/files?artifact_file_path=``."""
    path = request.query_params.get("artifact_file_path") or ""
    try:
        p = Params({"artifact_file_path": path})
        handle, size = await run_in_threadpool(
            _logged_model_file,
            context(request),
            request.path_params["model_id"],
            p.req("artifact_file_path"),
        )
    except Exception as exc:
        return answer_error(exc, "the logged model artifact download")
    return _send(handle, size, path)


router.add_api_route("/get-artifact", get_artifact, methods=["GET"], include_in_schema=False)
for _prefix in ("/ajax-api/2.0/mlflow", "/api/2.0/mlflow"):
    router.add_api_route(
        _prefix + "/logged-models/{model_id}/artifacts/files",
        get_logged_model_artifact,
        methods=["GET"],
        include_in_schema=False,
    )
router.add_api_route(
    "/model-versions/get-artifact",
    get_version_artifact,
    methods=["GET"],
    include_in_schema=False,
)
