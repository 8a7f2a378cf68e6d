"""``experiments/*``: create, get, get-by-name, search, update (rename), delete, restore,
set-experiment-tag and delete-experiment-tag, over mlcycle's experiments."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from mlcycle.entities import Experiment, LifecycleStage
from mlcycle.errors import NotFoundError
from mlcycle.server.mlflow import filters, paging, wire
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params, key_values
from mlcycle.server.mlflow.routing import Endpoints

endpoints = Endpoints()
route = endpoints.route

VIEW_TYPES = ("ACTIVE_ONLY", "DELETED_ONLY", "ALL")
MAX_EXPERIMENTS = 50_000
MAX_LOCATION = 2048  # MLflow's default MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH
_ATTRIBUTES = {"name", "experiment_id", "creation_time", "last_update_time", "lifecycle_stage"}
_ORDER = {"name", "experiment_id", "creation_time", "last_update_time"}
_DIALECT = filters.dialect(_ATTRIBUTES, numeric={"creation_time", "last_update_time"})


def artifact_location(given: str) -> str:
    """An experiment's ``artifact_location`` as MLflow keeps it: checked by MLflow's rules, a
    relative local path made absolute against the server's working directory."""
    parsed = urlparse(given)
    if parsed.fragment or parsed.params:
        raise MlflowError("'artifact_location' URL can't include fragments or params.")
    if given.startswith("runs:"):
        raise MlflowError(f"Artifact location cannot be a runs:/ URI. Given: '{given}'")
    if len(given) > MAX_LOCATION:
        raise MlflowError(
            "Invalid artifact path length. The length of the artifact path cannot be "
            f"greater than {MAX_LOCATION} characters."
        )
    if not parsed.scheme and not os.path.isabs(given):
        return os.path.abspath(given)
    return given


@route("/experiments/create", "POST")
def create_experiment(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    # artifact_location is kept and reported; the runs' artifacts still go to mlcycle's
    # artifact store through the proxy (their URIs are mlflow-artifacts:/<exp>/<run>/...).
    tags = key_values(p.objects("tags"), "tags")
    given = p.text("artifact_location")
    location = artifact_location(given) if given else None
    description = tags.get(wire.NOTE)
    created = ctx.tracking.create_experiment(p.req("name"), tags=tags, description=description)
    if location is not None:
        ctx.records.set_artifact_location(created.id, location)
    return {"experiment_id": created.id}


def _answer(ctx: MlflowContext, experiment: Experiment) -> dict[str, Any]:
    location = ctx.records.artifact_locations([experiment.id]).get(experiment.id)
    return {"experiment": wire.experiment(experiment, location)}


@route("/experiments/get", "GET")
def get_experiment(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    return _answer(ctx, ctx.get_experiment(p.req("experiment_id")))


@route("/experiments/get-by-name", "GET")
def get_experiment_by_name(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name = p.req("experiment_name")
    found = ctx.tracking.find_experiment(name)
    if found is None:
        raise NotFoundError(f"Could not find experiment with name '{name}'", field="name")
    return _answer(ctx, found)


def _fields(e: Experiment) -> Mapping[str, Any]:
    values: dict[str, Any] = {
        "name": e.name,
        "experiment_id": e.id,
        "creation_time": e.created_at,
        "last_update_time": e.updated_at,
        "lifecycle_stage": e.lifecycle_stage.value,
    }
    values.update({f"tags.{k}": v for k, v in e.tags.items()})
    return values


def _order(experiments: list[Experiment], clauses: list[str]) -> list[Experiment]:
    ordered = sorted(experiments, key=lambda e: e.id)
    ordered.sort(key=lambda e: -e.created_at)  # MLflow's default: newest first
    orders = filters.order_by(clauses, allowed=_ORDER)
    return filters.sort_by(ordered, lambda e, f: _fields(e)[f], orders)


@route("/experiments/search", "POST")
def search_experiments(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    view = p.enum("view_type", VIEW_TYPES, default="ACTIVE_ONLY")
    size = paging.check_size(
        p.integer("max_results", default=1000) or 1000, name="max_results", limit=MAX_EXPERIMENTS
    )
    found = ctx.tracking.list_experiments(include_deleted=view != "ACTIVE_ONLY")
    if view == "DELETED_ONLY":
        found = [e for e in found if e.lifecycle_stage is LifecycleStage.DELETED]
    found = filters.select(found, filters.parse(p.text("filter"), _DIALECT), _fields)
    chosen, token = paging.page(_order(found, p.strs("order_by")), p.text("page_token"), size)
    locations = ctx.records.artifact_locations([e.id for e in chosen])
    body: dict[str, Any] = {
        "experiments": [wire.experiment(e, locations.get(e.id)) for e in chosen]
    }
    if token:
        body["next_page_token"] = token
    return body


@route("/experiments/update", "POST")
def update_experiment(ctx: MlflowContext, p: Params) -> None:
    experiment = ctx.get_experiment(p.req("experiment_id"))
    new_name = p.text("new_name")
    if new_name:
        ctx.tracking.update_experiment(experiment.id, name=new_name)


@route("/experiments/delete", "POST")
def delete_experiment(ctx: MlflowContext, p: Params) -> None:
    ctx.tracking.delete_experiment(ctx.get_experiment(p.req("experiment_id")).id)


@route("/experiments/restore", "POST")
def restore_experiment(ctx: MlflowContext, p: Params) -> None:
    ctx.tracking.restore_experiment(ctx.get_experiment(p.req("experiment_id")).id)


@route("/experiments/set-experiment-tag", "POST")
def set_experiment_tag(ctx: MlflowContext, p: Params) -> None:
    experiment = ctx.get_experiment(p.req("experiment_id"))
    key, value = p.req("key"), p.text("value", default="") or ""
    ctx.tracking.set_experiment_tags(experiment.id, {key: value})
    if key == wire.NOTE:
        ctx.tracking.update_experiment(experiment.id, description=value)


@route("/experiments/delete-experiment-tag", "POST")
def delete_experiment_tag(ctx: MlflowContext, p: Params) -> None:
    experiment = ctx.get_experiment(p.req("experiment_id"))
    key = p.req("key")
    ctx.tracking.delete_experiment_tag(experiment.id, key)
    if key == wire.NOTE:
        ctx.tracking.update_experiment(experiment.id, description="")
