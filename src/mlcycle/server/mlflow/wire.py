"""mlcycle's entities in MLflow's JSON shapes (the proto3 JSON of MLflow's messages).

A few fields MLflow keeps in tags are columns in mlcycle and are shown as MLflow's tags:
a run's name (``mlflow.runName``), parent (``mlflow.parentRunId``) and description
(``mlflow.note.content``, also an experiment's description); the user is the
``mlflow.user`` tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlcycle.entities import (
    Experiment,
    LatestMetric,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    Run,
)
from mlcycle.server.mlflow import uris
from mlcycle.server.mlflow.protocol import number, pairs
from mlcycle.store.sql.mlflow import LoggedModel, RunDataset, RunModels, VersionExtras

RUN_NAME = "mlflow.runName"
PARENT = "mlflow.parentRunId"
NOTE = "mlflow.note.content"
USER = "mlflow.user"
MODEL_VERSIONS_TAG = "mlflow.modelVersions"

_VERSION_STATUS = {
    ModelVersionStatus.PENDING: "PENDING_REGISTRATION",
    ModelVersionStatus.FAILED: "FAILED_REGISTRATION",
}


def experiment(e: Experiment, location: str | None = None) -> dict[str, Any]:
    """An experiment; ``location`` is the ``artifact_location`` its creator gave, if any."""
    tags = dict(e.tags)
    if e.description and NOTE not in tags:
        tags[NOTE] = e.description
    return {
        "experiment_id": e.id,
        "name": e.name,
        "artifact_location": location or uris.experiment_root(e.id),
        "lifecycle_stage": e.lifecycle_stage.value,
        "last_update_time": e.updated_at,
        "creation_time": e.created_at,
        "tags": pairs(tags),
    }


def run_tags(r: Run) -> dict[str, str]:
    tags = dict(r.tags)
    tags[RUN_NAME] = r.name
    if r.parent_id and PARENT not in tags:
        tags[PARENT] = r.parent_id
    if r.description and NOTE not in tags:
        tags[NOTE] = r.description
    return tags


def run_info(r: Run) -> dict[str, Any]:
    info: dict[str, Any] = {
        "run_id": r.id,
        "run_uuid": r.id,
        "run_name": r.name,
        "experiment_id": r.experiment_id,
        "user_id": r.tags.get(USER, ""),
        "status": r.status.value,
        "start_time": r.start_time,
        "artifact_uri": uris.run_root(r.experiment_id, r.id),
        "lifecycle_stage": r.lifecycle_stage.value,
    }
    if r.end_time is not None:
        info["end_time"] = r.end_time
    return info


def metric(key: str, value: float, timestamp: int, step: int) -> dict[str, Any]:
    return {"key": key, "value": number(value), "timestamp": timestamp, "step": step}


def run(
    r: Run,
    latest: Sequence[LatestMetric] | None = None,
    datasets: Sequence[RunDataset] = (),
    models: RunModels | None = None,
) -> dict[str, Any]:
    """A run; ``latest`` gives each metric's step and time (else the run's start time)."""
    if latest is not None:
        metrics = [metric(m.key, m.value, m.timestamp, m.step) for m in latest]
    else:
        metrics = [metric(k, v, r.start_time, 0) for k, v in r.metrics.items()]
    body: dict[str, Any] = {
        "info": run_info(r),
        "data": {
            "metrics": metrics,
            "params": pairs(r.params),
            "tags": pairs(run_tags(r)),
        },
        "inputs": {
            "dataset_inputs": [dataset_input(d) for d in datasets],
            "model_inputs": [{"model_id": m} for m in (models.inputs if models else [])],
        },
        "outputs": {
            "model_outputs": [
                {"model_id": m, "step": step} for m, step in (models.outputs if models else [])
            ]
        },
    }
    return body


def dataset_input(d: RunDataset) -> dict[str, Any]:
    dataset: dict[str, Any] = {
        "name": d.name,
        "digest": d.digest,
        "source_type": d.source_type,
        "source": d.source,
    }
    if d.schema is not None:
        dataset["schema"] = d.schema
    if d.profile is not None:
        dataset["profile"] = d.profile
    return {"tags": pairs(d.tags), "dataset": dataset}


def logged_model_uri(m: LoggedModel) -> str:
    if m.files_run_id is None:
        return uris.area_uri(m.artifact_path)
    return uris.run_uri(m.experiment_id, m.files_run_id, m.artifact_path)


def logged_model(m: LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": m.id,
        "experiment_id": m.experiment_id,
        "name": m.name,
        "creation_timestamp_ms": m.created_at,
        "last_updated_timestamp_ms": m.updated_at,
        "artifact_uri": logged_model_uri(m),
        "status": m.status,
        "tags": pairs(m.tags),
    }
    if m.source_run_id is not None:
        info["source_run_id"] = m.source_run_id
    if m.model_type:
        info["model_type"] = m.model_type
    if m.status_message:
        info["status_message"] = m.status_message
    metrics = [
        {k: (number(v) if k == "value" else v) for k, v in item.items() if v is not None}
        for item in m.metrics
    ]
    return {"info": info, "data": {"params": pairs(m.params), "metrics": metrics}}


def version_status(v: ModelVersion) -> str:
    return _VERSION_STATUS.get(v.status, "READY")


def stage_of(v: ModelVersion, extras: VersionExtras | None) -> str:
    if extras is not None and extras.stage != "None":
        return extras.stage
    return "Archived" if v.status is ModelVersionStatus.ARCHIVED else "None"


def source_of(v: ModelVersion, extras: VersionExtras | None) -> str:
    if extras is not None:
        return extras.source
    return v.model_uri


def model_version(v: ModelVersion, extras: VersionExtras | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": v.name,
        "version": str(v.version),
        "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.updated_at,
        "current_stage": stage_of(v, extras),
        "description": v.description or "",
        "source": source_of(v, extras),
        "status": version_status(v),
        "tags": pairs(v.tags),
        "aliases": list(v.aliases),
    }
    if v.run_id:
        body["run_id"] = v.run_id
    if extras is not None:
        if extras.user_id:
            body["user_id"] = extras.user_id
        if extras.run_link:
            body["run_link"] = extras.run_link
        if extras.model_id:
            body["model_id"] = extras.model_id
    return body


def registered_model(
    m: RegisteredModel,
    latest: Sequence[ModelVersion] = (),
    extras: Mapping[int, VersionExtras] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": m.name,
        "creation_timestamp": m.created_at,
        "last_updated_timestamp": m.updated_at,
        "description": m.description or "",
        "latest_versions": [model_version(v, (extras or {}).get(v.version)) for v in latest],
        "tags": pairs(m.tags),
        "aliases": [
            {"alias": alias, "version": str(version)}
            for alias, version in sorted(m.aliases.items())
        ],
    }
    if m.owner:
        body["user_id"] = m.owner
    return body
