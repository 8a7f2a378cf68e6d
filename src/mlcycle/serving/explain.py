"""``POST /v2/models/{name}[/versions/{v}]/explain``: predictions with per-row SHAP
attributions, from the version that answered.

The request is an Open Inference Protocol body, with optional ``parameters``::

    {"inputs": [...], "parameters": {"budget_ms": 500, "log_explanation": true}}

The route picks an arm as ``/infer`` does (routing key, pinned version, retired
versions refused), checks the rows against the signature, then predicts and explains them
through the version's explain queue (:mod:`mlcycle.serving.explain_queue`: concurrent
requests merged into one predict and one SHAP call in an explain thread, apart from the
prediction micro-batcher), and logs the rows like any other request (sampled by
``log_sample_rate``), with the attributions as ``shap.<feature>`` columns when
``log_explanation`` is true.

Cost is bounded: each served version builds its explainer once, on its first explain
request (not counted in that request's budget), with a background set drawn once from the
version's input example (tree ensembles need none); a request holds at most
:data:`MAX_ROWS` rows and explains within ``budget_ms`` (default
:data:`DEFAULT_BUDGET_MS`, at most :data:`MAX_BUDGET_MS`), or gets a 422 saying the budget
ran out (the model-agnostic explainer; the exact ones run whole).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlcycle.deployments.prediction_logs import LogEntry, RequestSpan
from mlcycle.errors import InvalidInputError, ModelRetiredError, NotFoundError
from mlcycle.serving.decode import oip_inputs, parse_json
from mlcycle.serving.errors import MalformedRequestError
from mlcycle.serving.explain_queue import Explainers
from mlcycle.serving.stats import Answered

if TYPE_CHECKING:
    from mlcycle.serving.routing import ArmRuntime
    from mlcycle.serving.runtime import Runtime

MAX_ROWS = 100
DEFAULT_BUDGET_MS = 1000.0
MAX_BUDGET_MS = 30_000.0


@dataclass(frozen=True)
class ExplainRequest:
    inputs: Any
    id: str | None
    budget_s: float
    log_explanation: bool


def decode(body: bytes) -> ExplainRequest:
    """The rows and the explain parameters of a request body."""
    request = oip_inputs(body)
    data = parse_json(body)
    parameters = data.get("parameters") if isinstance(data, dict) else None
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise MalformedRequestError("parameters must be an object", field="parameters")
    budget = parameters.get("budget_ms", DEFAULT_BUDGET_MS)
    if (
        isinstance(budget, bool)
        or not isinstance(budget, int | float)
        or not 0 < budget <= MAX_BUDGET_MS
    ):
        raise InvalidInputError(
            f"budget_ms must be a number of milliseconds in (0, {MAX_BUDGET_MS:g}], got {budget!r}",
            field="budget_ms",
        )
    log_explanation = parameters.get("log_explanation", False)
    if not isinstance(log_explanation, bool):
        raise InvalidInputError("log_explanation must be true or false", field="log_explanation")
    if request.inputs.rows > MAX_ROWS:
        raise InvalidInputError(
            f"explain takes at most {MAX_ROWS} rows per request, got {request.inputs.rows}; "
            "use /infer for predictions and explain a sample",
            field="inputs",
        )
    return ExplainRequest(request.inputs, request.id, float(budget) / 1000.0, log_explanation)


async def explain(
    runtime: Runtime,
    explainers: Explainers,
    body: bytes,
    *,
    request_id: str,
    routing_key: str | None,
    version: str | None,
) -> tuple[ArmRuntime, dict[str, Any]]:
    """Answer one explain request; returns the arm that answered and the document."""
    request = decode(body)
    table = runtime.current()
    if version is not None:
        arm = table.by_version(version)
        if arm is None:
            raise NotFoundError(
                f"version {version!r} is not served by {runtime.name}", field="version"
            )
    else:
        arm = table.pick(routing_key)
    if arm.target.retired is not None:
        arm.metrics.answered(410)
        raise ModelRetiredError(f"{runtime.name}: {arm.target.retired}")
    try:
        checked = arm.model.check(request.inputs)
    except InvalidInputError:
        arm.metrics.input_errors.inc()
        raise
    now_ms = runtime.clock()
    explained = await explainers.queue(arm.model).explain(
        checked, rows=request.inputs.rows, budget_s=request.budget_s
    )
    prediction, attributions = explained.prediction, explained.attributions
    latency_ms = explained.latency_ms
    arm.metrics.answered(200)
    rows = request.inputs.rows
    predictions = prediction.predictions
    first = predictions[0] if len(predictions) else None
    runtime.recent.add(request_id, Answered(arm.name, rows, first, now_ms))
    rate = table.deployment.options.log_sample_rate
    if rate >= 1.0 or (rate > 0 and random.random() < rate):
        runtime.writer.append(
            LogEntry(
                deployment=runtime.name,
                model=arm.target.name,
                version=arm.target.version,
                arm=arm.name,
                columns=prediction.columns,
                predictions=predictions,
                proba=prediction.proba,
                classes=arm.model.classes,
                requests=[
                    RequestSpan(
                        request_id=request_id,
                        time_ms=now_ms,
                        start=0,
                        stop=rows,
                        latency_ms=latency_ms,
                    )
                ],
                attributions={
                    name: attributions.values[:, j] for j, name in enumerate(attributions.features)
                }
                if request.log_explanation
                else None,
            )
        )
    outputs: list[dict[str, Any]] = [
        {
            "name": "predict",
            "shape": list(predictions.shape),
            "datatype": arm.model.output_datatype(predictions),
            "data": predictions.ravel(),
        }
    ]
    if prediction.proba is not None:
        outputs.append(
            {
                "name": "predict_proba",
                "shape": list(prediction.proba.shape),
                "datatype": "FP64",
                "data": prediction.proba.ravel(),
                "parameters": {"classes": arm.model.classes},
            }
        )
    document = {
        "model_name": runtime.name,
        "model_version": arm.target.label,
        "id": request.id or request_id,
        "parameters": {"arm": arm.name, "model": arm.target.name},
        "outputs": outputs,
        "explanation": {
            "method": attributions.method,
            "output": attributions.output,
            "base_value": attributions.base_value,
            "features": list(attributions.features),
            "attributions": attributions.values,
        },
    }
    return arm, document
