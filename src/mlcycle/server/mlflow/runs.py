"""``runs/*``: create, get, update, delete, restore, log-metric, log-parameter, set-tag,
delete-tag, log-batch, log-inputs, outputs and log-model, over mlcycle's runs.

A run's name, parent and description are mlcycle columns shown as MLflow's tags (see
:mod:`.wire`); setting ``mlflow.runName`` renames the run, ``mlflow.note.content`` sets its
description. Metrics that name a logged model (``model_id``) are also kept with that model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from mlcycle.bounds import check_int64
from mlcycle.entities import MetricBatch, Run, RunStatus
from mlcycle.errors import NotFoundError
from mlcycle.server.mlflow import wire
from mlcycle.server.mlflow.context import MlflowContext
from mlcycle.server.mlflow.protocol import MlflowError, Params, key_values, to_float
from mlcycle.server.mlflow.routing import Endpoints
from mlcycle.store.sql.mlflow import RunDataset

endpoints = Endpoints()
route = endpoints.route

STATUSES = tuple(s.value for s in RunStatus)
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
LOGGED_MODELS_TAG = "mlflow.log-model.history"


def run_id_of(p: Params) -> str:
    return p.text("run_id") or p.text("run_uuid") or p.req("run_id")


def full_run(ctx: MlflowContext, run: Run) -> dict[str, Any]:
    """A run with its metrics' steps and times, dataset inputs and logged models."""
    latest = ctx.records.latest_metrics([run.id]).get(run.id, [])
    datasets = ctx.records.run_datasets([run.id]).get(run.id, [])
    models = ctx.records.run_models([run.id]).get(run.id)
    return wire.run(run, latest, datasets, models)


def _exists(ctx: MlflowContext, run_id: str) -> bool:
    try:
        ctx.tracking.get_run(run_id)
    except NotFoundError:
        return False
    return True


@route("/runs/create", "POST")
def create_run(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    experiment_id = ctx.experiment_id(p.text("experiment_id") or "0")
    tags = key_values(p.objects("tags"), "tags")
    name = p.text("run_name") or tags.get(wire.RUN_NAME) or None
    tags.pop(wire.RUN_NAME, None)  # kept as the run's name
    user = p.text("user_id")
    if user and wire.USER not in tags:
        tags[wire.USER] = user
    parent = tags.get(wire.PARENT) or None
    if parent is not None and not _exists(ctx, parent):
        parent = None  # MLflow takes any value for the tag; only a real run is a parent
    run = ctx.tracking.create_run(
        experiment_id,
        name=name,
        tags=tags,
        parent_id=parent,
        description=tags.get(wire.NOTE) or None,
        start_time=p.integer("start_time"),
    )
    return {"run": wire.run(run, [])}


@route("/runs/get", "GET")
def get_run(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    return {"run": full_run(ctx, ctx.tracking.get_run(run_id_of(p)))}


@route("/runs/update", "POST")
def update_run(ctx: MlflowContext, p: Params) -> dict[str, Any]:
    run_id = run_id_of(p)
    run = ctx.tracking.get_run(run_id)
    name, status = p.text("run_name"), p.enum("status", STATUSES)
    end_time = p.integer("end_time")  # every field read (and checked) before any write
    with ctx.tracking.transaction():
        if name:
            ctx.tracking.update_run(run_id, name=name)
        if status is not None:
            _set_status(ctx, run, RunStatus(status), end_time)
    return {"run_info": wire.run_info(ctx.tracking.get_run(run_id))}


def _set_status(ctx: MlflowContext, run: Run, new: RunStatus, end_time: int | None) -> None:
    if new.is_terminal:
        if not run.status.is_terminal:
            ctx.tracking.end_run(run.id, new)
        if end_time is not None or run.status.is_terminal:
            # MLflow records the end time its client sends; mlcycle's end_run stamps
            # its own clock, so the client's time is written over it.
            ctx.tracking.store.runs.update(
                run.id, status=new, end_time=end_time or run.end_time or run.start_time
            )
    elif run.status is not new:
        # An MLflow client resuming a run (start_run(run_id=...)) sets it RUNNING again;
        # mlcycle takes params and metrics again from then on.
        ctx.tracking.store.runs.update(run.id, status=new, end_time=None)


@route("/runs/delete", "POST")
def delete_run(ctx: MlflowContext, p: Params) -> None:
    ctx.tracking.delete_runs([p.req("run_id")])


@route("/runs/restore", "POST")
def restore_run(ctx: MlflowContext, p: Params) -> None:
    ctx.tracking.restore_runs([p.req("run_id")])


def _number(item: Mapping[str, Any], name: str, index: int) -> int:
    value = item.get(name, 0)
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = int(value)
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number is not None:
        return check_int64(number, field=f"metrics[{index}].{name}")
    raise MlflowError(f"Invalid value {value!r} for parameter 'metrics[{index}].{name}'")


def write_metrics(ctx: MlflowContext, run_id: str, items: Sequence[Mapping[str, Any]]) -> None:
    """Write MLflow metric dicts to the run, one batch per key in one transaction; those
    naming a logged model are also kept with it."""
    by_key: dict[str, tuple[list[int], list[int], list[float]]] = {}
    linked: dict[str, list[dict[str, Any]]] = {}
    for index, item in enumerate(items):
        key = item.get("key")
        if not isinstance(key, str) or not key:
            raise MlflowError(f"Missing value for required parameter 'metrics[{index}].key'")
        if "timestamp" not in item:
            raise MlflowError(f"Missing value for required parameter 'metrics[{index}].timestamp'")
        raw = item.get("value")
        value = raw if type(raw) is float else to_float(f"metrics[{index}].value", raw)
        timestamp = _number(item, "timestamp", index)
        step = _number(item, "step", index)
        model_id = item.get("model_id")
        if model_id:
            linked.setdefault(str(model_id), []).append(
                {
                    "key": key,
                    "value": value,
                    "timestamp": timestamp,
                    "step": step,
                    "run_id": run_id,
                    "model_id": str(model_id),
                    "dataset_name": item.get("dataset_name"),
                    "dataset_digest": item.get("dataset_digest"),
                }
            )
            if _logged_already(ctx, run_id, key, step, timestamp, value):
                continue  # MLflow's log_model re-logs the run's metrics with the model's ID
        steps, times, values = by_key.setdefault(key, ([], [], []))
        steps.append(step)
        times.append(timestamp)
        values.append(value)
    batches = [
        MetricBatch(
            key=key,
            steps=np.asarray(steps, dtype=np.int64),
            timestamps=np.asarray(times, dtype=np.int64),
            values=np.asarray(values, dtype=np.float64),
        )
        for key, (steps, times, values) in by_key.items()
    ]
    if batches:
        # MLflow takes metrics on a finished run (only a deleted run refuses them)
        ctx.tracking.log_metrics(run_id, batches, allow_ended=True)
    for model_id, metrics in linked.items():
        now = ctx.tracking.clock()
        ctx.records.update_logged_model(model_id, updated_at=now, metrics=metrics)


def _logged_already(
    ctx: MlflowContext, run_id: str, key: str, step: int, timestamp: int, value: float
) -> bool:
    try:
        history = ctx.tracking.get_metric_history(run_id, key)
    except Exception:
        return False
    same = (history.steps == step) & (history.timestamps == timestamp)
    return bool(np.any(same & ((history.values == value) | np.isnan(history.values))))


@route("/runs/log-metric", "POST")
def log_metric(ctx: MlflowContext, p: Params) -> None:
    item = {
        "key": p.req("key"),
        "value": p.double("value", required=True),
        "timestamp": p.integer("timestamp", required=True),
        "step": p.integer("step", default=0),
        "model_id": p.text("model_id"),
        "dataset_name": p.text("dataset_name"),
        "dataset_digest": p.text("dataset_digest"),
    }
    write_metrics(ctx, run_id_of(p), [item])


@route("/runs/log-parameter", "POST")
def log_param(ctx: MlflowContext, p: Params) -> None:
    ctx.tracking.log_params(
        run_id_of(p), {p.req("key"): p.text("value", default="") or ""}, allow_ended=True
    )


def set_tags(ctx: MlflowContext, run_id: str, tags: dict[str, str]) -> None:
    """Set run tags; the name and description tags change those fields of the run."""
    name = tags.pop(wire.RUN_NAME, None)
    if name:
        ctx.tracking.update_run(run_id, name=name)
    if wire.NOTE in tags:
        ctx.tracking.update_run(run_id, description=tags[wire.NOTE])
    if tags:
        ctx.tracking.set_tags(run_id, tags)
    elif not name:
        ctx.tracking.get_run(run_id)  # an unknown run is still an error


@route("/runs/set-tag", "POST")
def set_tag(ctx: MlflowContext, p: Params) -> None:
    set_tags(ctx, run_id_of(p), {p.req("key"): p.text("value", default="") or ""})


@route("/runs/delete-tag", "POST")
def delete_tag(ctx: MlflowContext, p: Params) -> None:
    run_id, key = p.req("run_id"), p.req("key")
    ctx.tracking.delete_tag(run_id, key)
    if key == wire.NOTE:
        ctx.tracking.update_run(run_id, description="")


def _check_limit(what: str, count: int, limit: int) -> None:
    if count > limit:
        raise MlflowError(
            f"A batch logging request can contain at most {limit} {what}. Got {count} {what}. "
            "Please split up the request into several requests."
        )


@route("/runs/log-batch", "POST")
def log_batch(ctx: MlflowContext, p: Params) -> None:
    run_id = p.req("run_id")
    metrics, params, tags = p.objects("metrics"), p.objects("params"), p.objects("tags")
    _check_limit("metrics", len(metrics), MAX_METRICS_PER_BATCH)
    _check_limit("params", len(params), MAX_PARAMS_TAGS_PER_BATCH)
    _check_limit("tags", len(tags), MAX_PARAMS_TAGS_PER_BATCH)
    _check_limit(
        "metrics, params, and tags", len(metrics) + len(params) + len(tags), MAX_ENTITIES_PER_BATCH
    )
    param_values, tag_values = key_values(params, "params"), key_values(tags, "tags")
    with ctx.tracking.transaction():  # all or nothing: a refused item leaves nothing behind
        if params:
            ctx.tracking.log_params(run_id, param_values, allow_ended=True)
        if tags:
            set_tags(ctx, run_id, tag_values)
        if metrics:
            write_metrics(ctx, run_id, metrics)
        if not (params or tags or metrics):
            ctx.tracking.get_run(run_id)


def _dataset(item: Mapping[str, Any], index: int) -> RunDataset:
    dataset = item.get("dataset")
    if not isinstance(dataset, Mapping):
        raise MlflowError(f"Missing value for required parameter 'datasets[{index}].dataset'")
    fields: dict[str, str] = {}
    for name in ("name", "digest", "source_type", "source"):
        value = dataset.get(name)
        if not isinstance(value, str) or not value:
            raise MlflowError(
                f"Missing value for required parameter 'datasets[{index}].dataset.{name}'"
            )
        fields[name] = value
    schema, profile = dataset.get("schema"), dataset.get("profile")
    return RunDataset(
        name=fields["name"],
        digest=fields["digest"],
        source_type=fields["source_type"],
        source=fields["source"],
        schema=schema if isinstance(schema, str) else None,
        profile=profile if isinstance(profile, str) else None,
        tags=key_values(item.get("tags") or [], f"datasets[{index}].tags"),
    )


@route("/runs/log-inputs", "POST")
def log_inputs(ctx: MlflowContext, p: Params) -> None:
    run_id = p.req("run_id")
    datasets = [_dataset(item, i) for i, item in enumerate(p.objects("datasets"))]
    models = [str(m.get("model_id", "")) for m in p.objects("models")]
    if any(not m for m in models):
        raise MlflowError("Missing value for required parameter 'models[].model_id'")
    ctx.tracking.get_run(run_id)
    ctx.records.add_datasets(run_id, datasets, at=ctx.tracking.clock())
    ctx.records.link_models(run_id, [(m, 0) for m in models], direction="input")


@route("/runs/outputs", "POST")
def log_outputs(ctx: MlflowContext, p: Params) -> None:
    run_id = p.req("run_id")
    outputs: list[tuple[str, int]] = []
    for index, item in enumerate(p.objects("models")):
        model_id = item.get("model_id")
        if not isinstance(model_id, str) or not model_id:
            raise MlflowError(f"Missing value for required parameter 'models[{index}].model_id'")
        outputs.append((model_id, _number(item, "step", index)))
    ctx.tracking.get_run(run_id)
    ctx.records.link_models(run_id, outputs, direction="output")


@route("/runs/log-model", "POST")
def log_model(ctx: MlflowContext, p: Params) -> None:
    """MLflow 2's record of a logged model: appended to the run's model history tag."""
    run_id = p.req("run_id")
    try:
        model = orjson.loads(p.req("model_json"))
    except orjson.JSONDecodeError:
        raise MlflowError("model_json is not valid JSON") from None
    run = ctx.tracking.get_run(run_id)
    history = orjson.loads(run.tags.get(LOGGED_MODELS_TAG, "[]"))
    history.append(model)
    ctx.tracking.set_tags(run_id, {LOGGED_MODELS_TAG: orjson.dumps(history).decode()})
