"""The model registry for MLflow clients: ``registered-models/*`` and ``model-versions/*``,
over mlcycle's registry (same models, versions, aliases and tags).

A version created from an MLflow model (``runs:/<run>/<path>``, a run artifact URI, or a
logged model ``models:/<model_id>``) points at the run and folder holding its files, with
the flavor and signature read from its ``MLmodel`` file; MLflow's own fields (the source as
given, logged model, run link, stage) are kept beside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from mlcycle.entities import ModelVersion, ModelVersionStatus
from mlcycle.entities.models import ModelSource
from mlcycle.errors import MlcycleError, NotFoundError
from mlcycle.server.mlflow import filters, logged_models, paging, uris, wire
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params, key_values
from mlcycle.server.mlflow.routing import Endpoints
from mlcycle.store.sql.mlflow import VersionExtras

endpoints = Endpoints()
route = endpoints.route

STAGES = ("None", "Staging", "Production", "Archived")
MAX_MODELS = 1000
MAX_VERSIONS = 200_000
_MODEL_ORDER = {"name", "creation_timestamp", "last_updated_timestamp", "timestamp"}
_MODEL_ATTRIBUTES = {
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
}
_VERSION_ORDER = {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
_VERSION_FIELDS = {"name", "version_number", "run_id", "source_path", "current_stage", "model_id"}
_MODEL_DIALECT = filters.dialect({"name"})
_VERSION_DIALECT = filters.dialect(_VERSION_FIELDS, numeric={"version_number"})


def _stage(value: str) -> str:
    for stage in STAGES:
        if stage.lower() == value.strip().lower():
            return stage
    raise MlflowError(f"Invalid Model Version stage: {value}. Value must be one of {STAGES}.")


def _version_number(p: Params) -> int:
    text = p.req("version")
    try:
        number = int(text)
    except ValueError:
        raise MlflowError(f"Parameter 'version' must be an integer, got '{text}'.") from None
    return number


def _versions(ctx: MlflowContext, name: str) -> tuple[list[ModelVersion], dict[int, VersionExtras]]:
    return ctx.registry.list_versions(name), ctx.records.version_extras(name)


def _latest_per_stage(
    ctx: MlflowContext, name: str, stages: list[str] | None = None
) -> tuple[list[ModelVersion], dict[int, VersionExtras]]:
    versions, extras = _versions(ctx, name)
    latest: dict[str, ModelVersion] = {}
    for v in versions:
        stage = wire.stage_of(v, extras.get(v.version))
        wanted = stages is None or stage in stages
        if wanted and (stage not in latest or v.version > latest[stage].version):
            latest[stage] = v
    return sorted(latest.values(), key=lambda v: v.version), extras


def _model_body(ctx: MlflowContext, name: str) -> dict[str, Any]:
    model = ctx.registry.get_model(name)
    latest, extras = _latest_per_stage(ctx, name)
    return wire.registered_model(model, latest, extras)


def _version_body(ctx: MlflowContext, name: str, version: int) -> dict[str, Any]:
    found = ctx.registry.get_version(name, version)
    return wire.model_version(found, ctx.records.version_extras(name).get(version))


# -- registered models --------------------------------------------------------------------


@route("/registered-models/create", "POST")
def create_registered_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    model = ctx.registry.create_model(
        p.req("name"),
        description=p.text("description") or None,
        tags=key_values(p.objects("tags"), "tags"),
    )
    return {"registered_model": wire.registered_model(model)}


@route("/registered-models/get", "GET")
def get_registered_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    return {"registered_model": _model_body(ctx, p.req("name"))}


@route("/registered-models/rename", "POST")
def rename_registered_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    model = ctx.registry.rename_model(p.req("name"), p.req("new_name"))
    return {"registered_model": _model_body(ctx, model.name)}


@route("/registered-models/update", "PATCH")
def update_registered_model(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name = p.req("name")
    ctx.registry.update_model(name, description=p.text("description", default="") or "")
    return {"registered_model": _model_body(ctx, name)}


@route("/registered-models/delete", "DELETE")
def delete_registered_model(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.delete_model(p.req("name"))


@route("/registered-models/search", "GET")
def search_registered_models(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    size = paging.check_size(
        p.integer("max_results", default=100) or 100, name="max_results", limit=MAX_MODELS
    )
    models = ctx.registry.list_models()
    found = filters.select(
        models,
        filters.parse(p.text("filter"), _MODEL_DIALECT),
        lambda m: {"name": m.name, **{f"tags.{k}": v for k, v in m.tags.items()}},
        missing_tag_differs=True,
    )
    orders = filters.order_by(p.strs("order_by"), allowed=_MODEL_ORDER)
    found = filters.sort_by(found, lambda m, f: getattr(m, _MODEL_ATTRIBUTES.get(f, f)), orders)
    chosen, token = paging.page(found, p.text("page_token"), size)
    body: dict[str, Any] = {"registered_models": [_model_body(ctx, m.name) for m in chosen]}
    if token:
        body["next_page_token"] = token
    return body


@route("/registered-models/get-latest-versions", "POST")
def get_latest_versions(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    stages = [_stage(s) for s in p.strs("stages")] or None
    latest, extras = _latest_per_stage(ctx, p.req("name"), stages)
    return {"model_versions": [wire.model_version(v, extras.get(v.version)) for v in latest]}


@route("/registered-models/set-tag", "POST")
def set_registered_model_tag(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.update_model(p.req("name"), tags={p.req("key"): p.text("value") or ""})


@route("/registered-models/delete-tag", "DELETE")
def delete_registered_model_tag(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.delete_model_tag(p.req("name"), p.req("key"))


@route("/registered-models/alias", "POST")
def set_registered_model_alias(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.set_alias(p.req("name"), p.req("alias"), _version_number(p))


@route("/registered-models/alias", "DELETE")
def delete_registered_model_alias(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.delete_alias(p.req("name"), p.req("alias"))


@route("/registered-models/alias", "GET")
def get_model_version_by_alias(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name = p.req("name")
    found = ctx.registry.resolve_version(name, alias=p.req("alias"))
    return {
        "model_version": wire.model_version(
            found, ctx.records.version_extras(name).get(found.version)
        )
    }


# -- model versions -----------------------------------------------------------------------


def _model_id_of(source: str) -> str | None:
    if source.startswith("models:/"):
        rest = source[len("models:/") :].strip("/")
        if rest.startswith("m-") and "/" not in rest:
            return rest
    return None


def _resolve(
    ctx: MlflowContext, source: str, run_id: str | None, model_id: str | None
) -> tuple[ModelSource, str | None]:
    """Where the version's files are (run and folder), and its logged model if any."""
    model_id = model_id or _model_id_of(source)
    if model_id:
        model = logged_models.get_model(ctx, model_id)
        found = logged_models.run_source(model)
        if found is not None:
            return ModelSource(*found), model_id
        return ModelSource(run_id or "", ""), model_id
    if source.startswith("models:/"):
        name, _, version = source[len("models:/") :].strip("/").partition("/")
        if version.isascii() and version.isdigit():
            copied = ctx.registry.get_version(name, int(version))
            return copied.source, ctx.records.version_extras(name).get(
                copied.version, VersionExtras(source="")
            ).model_id
    parsed = uris.parse_run_source(source)
    if parsed is not None:
        return ModelSource(*parsed), None
    return ModelSource(run_id or "", ""), None


def _read_mlmodel(ctx: MlflowContext, source: ModelSource, model_id: str | None) -> dict[str, Any]:
    """The version's ``MLmodel`` file (flavors, signature), or {} when it cannot be read."""
    try:
        if source.run_id and source.artifact_path:
            handle = ctx.tracking.open_artifact(source.run_id, f"{source.artifact_path}/MLmodel")
        elif model_id:
            model = logged_models.get_model(ctx, model_id)
            handle = ctx.area_store.open(ctx.area_key(f"{model.artifact_path}/MLmodel"))
        else:
            return {}
        with handle:
            data = yaml.safe_load(handle.read())
    except (MlcycleError, yaml.YAMLError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _flavor(mlmodel: Mapping[str, Any]) -> str | None:
    flavors = mlmodel.get("flavors")
    if not isinstance(flavors, Mapping):
        return None
    names = [str(k) for k in flavors if k != "python_function"]
    return names[0] if names else ("python_function" if flavors else None)


@route("/model-versions/create", "POST")
def create_model_version(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name, given = p.req("name"), p.req("source")
    run_id = p.text("run_id") or None
    source, model_id = _resolve(ctx, given, run_id, p.text("model_id") or None)
    if run_id and source.run_id and run_id != source.run_id:
        raise MlflowError(
            f"Invalid model version source: {given!r}. The run_id request parameter must "
            "identify the resource that contains the source."
        )
    mlmodel = _read_mlmodel(ctx, source, model_id)
    signature = mlmodel.get("signature")
    version = ctx.registry.add_version(
        name,
        source,
        flavor=_flavor(mlmodel),
        signature=signature if isinstance(signature, dict) else None,
        description=p.text("description") or None,
        tags=key_values(p.objects("tags"), "tags"),
    )
    extras = VersionExtras(
        source=given, model_id=model_id, run_link=p.text("run_link") or None, stage="None"
    )
    ctx.records.set_version_extras(name, version.version, extras)
    if model_id:
        _record_version(ctx, model_id, name, version.version)
    return {"model_version": wire.model_version(version, extras)}


MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def _record_version(ctx: MlflowContext, model_id: str, name: str, number: int) -> None:
    """List the version in its logged model's ``mlflow.modelVersions`` tag, as MLflow does."""
    model = logged_models.get_model(ctx, model_id, allow_deleted=True)
    try:
        listed = json.loads(model.tags.get(MODEL_VERSIONS_TAG, "[]"))
    except json.JSONDecodeError:
        listed = []
    if not isinstance(listed, list):
        listed = []
    listed.append({"name": name, "version": number})
    tags = {MODEL_VERSIONS_TAG: json.dumps(listed)}  # MLflow's spacing, which clients compare
    ctx.records.update_logged_model(model_id, updated_at=ctx.tracking.clock(), tags=tags)


@route("/model-versions/get", "GET")
def get_model_version(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    return {"model_version": _version_body(ctx, p.req("name"), _version_number(p))}


@route("/model-versions/update", "PATCH")
def update_model_version(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name, version = p.req("name"), _version_number(p)
    ctx.registry.update_version(name, version, description=p.text("description", default="") or "")
    return {"model_version": _version_body(ctx, name, version)}


@route("/model-versions/delete", "DELETE")
def delete_model_version(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.delete_version(p.req("name"), _version_number(p))


def _set_stage(
    ctx: MlflowContext, v: ModelVersion, extras: VersionExtras | None, stage: str
) -> None:
    current = extras or VersionExtras(source=v.model_uri)
    ctx.records.set_version_extras(
        v.name,
        v.version,
        VersionExtras(
            source=current.source,
            model_id=current.model_id,
            run_link=current.run_link,
            user_id=current.user_id,
            stage=stage,
        ),
    )
    # The stage MLflow calls Archived is mlcycle's ARCHIVED status, and back.
    if stage == "Archived" and v.status is ModelVersionStatus.READY:
        ctx.registry.set_status(v.name, v.version, ModelVersionStatus.ARCHIVED)
    elif stage != "Archived" and v.status is ModelVersionStatus.ARCHIVED:
        ctx.registry.set_status(v.name, v.version, ModelVersionStatus.READY)


@route("/model-versions/transition-stage", "POST")
def transition_stage(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name, number = p.req("name"), _version_number(p)
    stage = _stage(p.req("stage"))
    versions, extras = _versions(ctx, name)
    target = next((v for v in versions if v.version == number), None)
    if target is None:
        raise NotFoundError(f"Model Version (name={name}, version={number}) not found")
    _set_stage(ctx, target, extras.get(number), stage)
    if p.flag("archive_existing_versions") and stage in ("Staging", "Production"):
        for v in versions:
            if v.version != number and wire.stage_of(v, extras.get(v.version)) == stage:
                _set_stage(ctx, v, extras.get(v.version), "Archived")
    return {"model_version": _version_body(ctx, name, number)}


def _version_fields(v: ModelVersion, extras: VersionExtras | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": v.name,
        "version_number": v.version,
        "run_id": v.run_id,
        "source_path": wire.source_of(v, extras),
        "current_stage": wire.stage_of(v, extras),
        "model_id": extras.model_id if extras else None,
        "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.updated_at,
    }
    values.update({f"tags.{k}": val for k, val in v.tags.items()})
    return values


@route("/model-versions/search", "GET")
def search_model_versions(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    size = paging.check_size(
        p.integer("max_results", default=MAX_VERSIONS) or MAX_VERSIONS,
        name="max_results",
        limit=MAX_VERSIONS,
    )
    conditions = filters.parse(p.text("filter"), _VERSION_DIALECT)
    names = filters.equal_values(conditions, "name")
    models = [str(names[0])] if names else [m.name for m in ctx.registry.list_models()]
    rows: list[tuple[ModelVersion, VersionExtras | None]] = []
    for name in models:
        try:
            versions, extras = _versions(ctx, name)
        except NotFoundError:
            continue
        rows.extend((v, extras.get(v.version)) for v in versions)
    found = filters.select(
        rows,
        conditions,
        lambda row: _version_fields(*row),
        missing_tag_differs=True,
    )
    found.sort(key=lambda row: (row[0].name, -row[0].version))
    orders = filters.order_by(p.strs("order_by"), allowed=_VERSION_ORDER)
    if not orders:  # MLflow's default: the most recently updated first
        found.sort(key=lambda row: row[0].updated_at, reverse=True)
    found = filters.sort_by(found, lambda row, f: _version_fields(*row)[f], orders)
    chosen, token = paging.page(found, p.text("page_token"), size)
    body: dict[str, Any] = {"model_versions": [wire.model_version(v, x) for v, x in chosen]}
    if token:
        body["next_page_token"] = token
    return body


@route("/model-versions/get-download-uri", "GET")
def get_download_uri(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    name, number = p.req("name"), _version_number(p)
    version = ctx.registry.get_version(name, number)
    extras = ctx.records.version_extras(name).get(number)
    if version.run_id and version.artifact_path:
        run = ctx.tracking.get_run(version.run_id)
        return {"artifact_uri": uris.run_uri(run.experiment_id, run.id, version.artifact_path)}
    if extras is not None and extras.model_id:
        model = logged_models.get_model(ctx, extras.model_id, allow_deleted=True)
        return {"artifact_uri": logged_models.artifact_uri(model)}
    return {"artifact_uri": wire.source_of(version, extras)}


@route("/model-versions/set-tag", "POST")
def set_model_version_tag(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.update_version(
        p.req("name"), _version_number(p), tags={p.req("key"): p.text("value") or ""}
    )


@route("/model-versions/delete-tag", "DELETE")
def delete_model_version_tag(ctx: MlflowContext, p: Params) -> None:
    ctx.registry.delete_version_tag(p.req("name"), _version_number(p), p.req("key"))
