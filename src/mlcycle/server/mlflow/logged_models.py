"""``logged-models/*``: MLflow 3's logged models, which ``mlflow.<flavor>.log_model`` creates,
uploads into and finalizes.

A logged model with a source run keeps its files among that run's artifacts, at its name
(``model/MLmodel`` ...) or, when that path is taken, at ``models/<model_id>``: mlcycle's
API lists them with the run's other files and the registry points at them. A model logged
without a run keeps its files in the MLflow artifact area.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlcycle.entities import LifecycleStage
from mlcycle.errors import NotFoundError
from mlcycle.search.filters import Entity
from mlcycle.server.mlflow import filters, paging, uris, wire
from mlcycle.server.mlflow.artifacts import _entries, safe_path
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params, key_values
from mlcycle.server.mlflow.routing import Endpoints
from mlcycle.store.sql.mlflow import LoggedModel
from mlcycle.tracking.names import readable_name

endpoints = Endpoints()
route = endpoints.route

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
MAX_RESULTS = 1000
MAX_RUN_ID = 32  # the longest source run ID kept (MLflow's run IDs are 32 hex digits)
_FOLDER_NAME = re.compile(r"^[\w][\w\-. ]{0,199}$")
_ATTRIBUTES = {
    "name",
    "model_id",
    "model_type",
    "status",
    "source_run_id",
    "creation_timestamp",
    "creation_time",
    "last_updated_timestamp",
}
_ORDER = {"name", "model_id", "creation_timestamp", "creation_time", "last_updated_timestamp"}
_DIALECT = filters.dialect(
    _ATTRIBUTES,
    numeric={"creation_timestamp", "creation_time", "last_updated_timestamp"},
    entities=(Entity.TAG, Entity.PARAM, Entity.METRIC),
)


def _path_for(ctx: MlflowContext, run_id: str, name: str, model_id: str) -> str:
    """Where in the run's artifacts the model's files go: its name when that is free."""
    if _FOLDER_NAME.match(name) and not name.startswith("."):
        taken = any(
            m.artifact_path == name for m in ctx.records.logged_models((), source_run_id=run_id)
        )
        if not taken and not ctx.tracking.list_artifacts(run_id, name):
            return name
    return f"models/{model_id}"


def _has_run(ctx: MlflowContext, run_id: str) -> bool:
    if len(run_id) > MAX_RUN_ID:
        raise MlflowError(
            f"Invalid value {run_id!r} for parameter 'source_run_id' supplied: "
            f"at most {MAX_RUN_ID} characters"
        )
    try:
        ctx.tracking.get_run(run_id)
    except NotFoundError:
        return False
    return True


@route("/logged-models", "POST")
def create_logged_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    experiment = ctx.get_experiment(p.text("experiment_id") or "0")
    run_id = p.text("source_run_id") or None
    name = p.text("name") or readable_name()
    model_id = f"m-{ctx.tracking.new_id()}"
    # MLflow takes any string as the source run: one this server has keeps the model's files
    # among its artifacts, any other is kept as given and the files go to the MLflow area
    in_run = run_id is not None and _has_run(ctx, run_id)
    if run_id is not None and in_run:
        path = _path_for(ctx, run_id, name, model_id)
    else:
        path = f"{experiment.id}/models/{model_id}/artifacts"
    now = ctx.tracking.clock()
    model = ctx.records.create_logged_model(
        LoggedModel(
            id=model_id,
            experiment_id=experiment.id,
            name=name,
            source_run_id=run_id,
            artifact_path=path,
            files_in_run=in_run,
            status=STATUSES[0],
            model_type=p.text("model_type") or None,
            created_at=now,
            updated_at=now,
            tags=key_values(p.objects("tags"), "tags"),
            params=key_values(p.objects("params"), "params"),
        )
    )
    return {"model": wire.logged_model(model)}


def get_model(ctx: MlflowContext, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
    model = ctx.records.get_logged_model(model_id)
    if model.lifecycle_stage is LifecycleStage.DELETED and not allow_deleted:
        raise NotFoundError(f"Logged model with ID '{model_id}' not found", field="model_id")
    return model


@route("/logged-models/{model_id}", "GET")
def get_logged_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    model = get_model(ctx, p.req("model_id"), allow_deleted=p.flag("allow_deleted"))
    return {"model": wire.logged_model(model)}


@route("/logged-models/{model_id}", "PATCH")
def finalize_logged_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    model_id = p.req("model_id")
    status = p.enum("status", STATUSES)
    if status is None:
        raise MlflowError("Missing value for required parameter 'status'.")
    get_model(ctx, model_id)
    model = ctx.records.update_logged_model(
        model_id, updated_at=ctx.tracking.clock(), status=status
    )
    return {"model": wire.logged_model(model)}


@route("/logged-models/{model_id}", "DELETE")
def delete_logged_model(ctx: MlflowContext, p: Params) -> None:
    model_id = p.req("model_id")
    get_model(ctx, model_id)
    ctx.records.update_logged_model(
        model_id, updated_at=ctx.tracking.clock(), lifecycle_stage=LifecycleStage.DELETED
    )


@route("/logged-models/{model_id}/tags", "PATCH")
def set_logged_model_tags(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    model_id = p.req("model_id")
    get_model(ctx, model_id)
    model = ctx.records.update_logged_model(
        model_id, updated_at=ctx.tracking.clock(), tags=key_values(p.objects("tags"), "tags")
    )
    return {"model": wire.logged_model(model)}


@route("/logged-models/{model_id}/tags/{tag_key}", "DELETE")
def delete_logged_model_tag(ctx: MlflowContext, p: Params) -> None:
    model_id = p.req("model_id")
    get_model(ctx, model_id)
    ctx.records.update_logged_model(
        model_id, updated_at=ctx.tracking.clock(), drop_tag=p.req("tag_key")
    )


@route("/logged-models/{model_id}/params", "POST")
def log_logged_model_params(ctx: MlflowContext, p: Params) -> None:
    model_id = p.req("model_id")
    get_model(ctx, model_id)
    params = key_values(p.objects("params"), "params")
    ctx.records.update_logged_model(model_id, updated_at=ctx.tracking.clock(), params=params)


@route("/logged-models/{model_id}/artifacts/directories", "GET")
def list_logged_model_artifacts(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    model = get_model(ctx, p.req("model_id"))
    folder = safe_path(p.text("artifact_directory_path") or "")
    base = f"{model.artifact_path}/{folder}".rstrip("/")
    if model.files_run_id is not None:
        files = ctx.tracking.list_artifacts(model.files_run_id, base)
    else:
        files = ctx.records.artifacts(base)
    entries = _entries(files, base)
    for entry in entries:
        entry["path"] = entry["path"][len(model.artifact_path) + 1 :]
    return {"root_uri": wire.logged_model_uri(model), "files": entries}


def _fields(model: LoggedModel, datasets: list[Mapping[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": model.name,
        "model_id": model.id,
        "model_type": model.model_type,
        "status": model.status,
        "source_run_id": model.source_run_id,
        "creation_timestamp": model.created_at,
        "creation_time": model.created_at,
        "last_updated_timestamp": model.updated_at,
    }
    values.update({f"tags.{k}": v for k, v in model.tags.items()})
    values.update({f"params.{k}": v for k, v in model.params.items()})
    latest: dict[str, tuple[int, int, Any]] = {}
    for m in model.metrics:
        if datasets and not any(
            m.get("dataset_name") == d.get("dataset_name")
            and (not d.get("dataset_digest") or m.get("dataset_digest") == d.get("dataset_digest"))
            for d in datasets
        ):
            continue
        rank = (int(m.get("step", 0)), int(m.get("timestamp", 0)))
        if m["key"] not in latest or rank >= latest[m["key"]][:2]:
            latest[m["key"]] = (*rank, m["value"])
    values.update({f"metrics.{k}": v[2] for k, v in latest.items()})
    return values


def _on(metric: Mapping[str, Any], datasets: list[Mapping[str, Any]]) -> bool:
    """Whether a metric was logged on one of ``datasets`` (a digest, when given, must match)."""
    return any(
        metric.get("dataset_name") == d.get("dataset_name")
        and (not d.get("dataset_digest") or metric.get("dataset_digest") == d.get("dataset_digest"))
        for d in datasets
    )


@route("/logged-models/search", "POST")
def search_logged_models(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    experiment_ids = [ctx.experiment_id(e) for e in p.strs("experiment_ids")]
    size = paging.check_size(
        p.integer("max_results", default=50) or 50, name="max_results", limit=MAX_RESULTS
    )
    datasets = list(p.objects("datasets"))
    models = ctx.records.logged_models(experiment_ids)
    if datasets:  # only the models with metrics on one of the datasets
        models = [m for m in models if any(_on(metric, datasets) for metric in m.metrics)]
    found = filters.select(
        models,
        filters.parse(p.text("filter"), _DIALECT),
        lambda m: _fields(m, datasets),
    )
    orders = []
    for item in p.objects("order_by"):
        field = str(item.get("field_name", ""))
        if field not in _ORDER and not field.startswith("metrics."):
            raise MlflowError(f"Invalid order_by field '{field}'")
        orders.append((field, item.get("ascending", True) is False))
    found = filters.sort_by(found, lambda m, f: _fields(m, datasets).get(f), orders)
    chosen, token = paging.page(found, p.text("page_token"), size)
    body: dict[str, Any] = {"models": [wire.logged_model(m) for m in chosen]}
    if token:
        body["next_page_token"] = token
    return body


def artifact_uri(model: LoggedModel) -> str:
    return wire.logged_model_uri(model)


def run_source(model: LoggedModel) -> tuple[str, str] | None:
    """(run ID, path among its artifacts) of a logged model with a source run."""
    if model.files_run_id is None:
        return None
    return model.files_run_id, model.artifact_path


__all__ = ["artifact_uri", "endpoints", "get_model", "run_source", "uris"]
