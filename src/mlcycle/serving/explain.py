"""``POST /v2/models/{name}[/versions/{v}]/explain``: predictions with per-row SHAP
attributions, from the version that answered.

The request is an Open Inference Protocol body, with optional ``parameters``::

    {"inputs": [...], "parameters": {"budget_ms": 500, "log_explanation": true}}

The route picks an arm as ``/infer`` does (routing key, pinned version, retired
versions refused), checks the rows against the signature, predicts and explains them in
a worker thread (not through the micro-batcher: explaining costs more than predicting),
and logs the rows like any other request (sampled by ``log_sample_rate``), with the
attributions as ``shap.<feature>`` columns when ``log_explanation`` is true.

Cost is bounded: each served version builds its explainer once, on its first explain
request (not counted in that request's budget), with a background set drawn once from the
version's input example (tree ensembles need none); a request holds at most
:data:`MAX_ROWS` rows and explains within ``budget_ms`` (default
:data:`DEFAULT_BUDGET_MS`, at most :data:`MAX_BUDGET_MS`), or gets a 422 saying the budget
ran out.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.deployments.prediction_logs import LogEntry, RequestSpan
from mlcycle.errors import InvalidInputError, ModelRetiredError, NotFoundError
from mlcycle.evaluation.explainers import Attributions, ShapExplainer, shap_explainer
from mlcycle.serving.decode import oip_inputs, parse_json
from mlcycle.serving.errors import MalformedRequestError
from mlcycle.serving.model import Prediction, ServedModel
from mlcycle.serving.stats import Answered

if TYPE_CHECKING:
    from mlcycle.serving.routing import ArmRuntime
    from mlcycle.serving.runtime import Runtime

MAX_ROWS = 100
DEFAULT_BUDGET_MS = 1000.0
MAX_BUDGET_MS = 30_000.0
BACKGROUND_ROWS = 100


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


class Explainers:
    """The explainer of each served version, built once on first use."""

    def __init__(self, *, seed: int = 0) -> None:
        self._built: dict[str, ShapExplainer] = {}
        self._lock = threading.Lock()
        self._seed = seed

    def get(self, model: ServedModel, rows: Any) -> ShapExplainer:
        found = self._built.get(model.key)
        if found is not None:
            return found
        with self._lock:
            found = self._built.get(model.key)
            if found is None:
                found = self._build(model, rows)
                self._built[model.key] = found
        return found

    def _build(self, model: ServedModel, rows: Any) -> ShapExplainer:
        classes = model.classes
        classifier = classes is not None
        if classifier and len(classes or ()) != 2:
            raise InvalidInputError(
                "explanations are served for regressors and binary classifiers",
                field="model",
            )
        example = model.model.input_example
        background = rows if example is None or not len(example) else model.model.prepare(example)
        if len(background) > BACKGROUND_ROWS:
            rng = np.random.default_rng(self._seed)
            background = background.iloc[rng.choice(len(background), BACKGROUND_ROWS, False)]
        return shap_explainer(
            model.model,
            background,
            positive_index=1 if classifier else None,
            positive_label=None if classes is None else classes[1],
            classifier=classifier,
            seed=self._seed,
        )


def _frame(prediction: Prediction, model: ServedModel) -> Any:
    import pandas as pd

    frame = pd.DataFrame({name: np.asarray(v) for name, v in prediction.columns.items()})
    return model.model.prepare(frame)


def _explain_rows(
    explainers: Explainers, arm: ArmRuntime, checked: Any, budget_s: float
) -> tuple[Prediction, Attributions, float]:
    started = time.perf_counter()
    prediction = arm.model.predict([checked], proba=True)
    frame = _frame(prediction, arm.model)
    # the budget is for explaining the rows: the first request to a version also builds
    # its explainer (importing shap takes seconds), once
    built = time.perf_counter()
    explainer = explainers.get(arm.model, frame)
    building = time.perf_counter() - built
    attributions = explainer.explain(frame, budget_s=budget_s - (built - started))
    return prediction, attributions, (time.perf_counter() - started - building) * 1000.0


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
    loop = asyncio.get_running_loop()
    prediction, attributions, latency_ms = await loop.run_in_executor(
        None, _explain_rows, explainers, arm, checked, request.budget_s
    )
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
