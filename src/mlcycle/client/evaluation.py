"""``mlcycle.evaluate``: evaluate a model and log the evaluation to the run."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mlcycle.client.client import Client
from mlcycle.client.fluent import active_run, get_client
from mlcycle.client.models import load
from mlcycle.entities import Task
from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.evaluator import SliceSpec, evaluate_model
from mlcycle.evaluation.result import EvaluationResult
from mlcycle.tracking.run import ActiveRun

#: The run tag naming the model an evaluation logged to the run was about.
EVALUATED_MODEL_TAG = "mlcycle.evaluation.model"


def evaluate(
    model_or_uri: object,
    data: object,
    target: str | None = None,
    task: Task | str | None = None,
    slices: SliceSpec | None = None,
    sensitive: str | Sequence[str] | None = None,
    cv: object | None = None,
    bootstrap: int = 0,
    *,
    pos_label: object | None = None,
    confidence: float = 0.95,
    seed: int | None = 0,
    trusted: Sequence[str] | None = None,
    run: ActiveRun | None = None,
    log: bool = True,
    artifact_path: str = "evaluation",
    metric_prefix: str = "",
    client: Client | None = None,
) -> EvaluationResult:
    """Evaluate a model on ``data`` (a DataFrame holding the ``target`` column).

    ``model_or_uri`` is a model URI (``runs:/...``, ``models:/...``), a LoadedModel, or a
    fitted model with ``predict`` (and ``predict_proba``). ``task`` is
    ``"classification"`` or ``"regression"``; by default the experiment's task, else
    classification for models with classes or probabilities and non-numeric targets.
    ``target`` defaults to the experiment's target.

    * classification: accuracy, precision, recall, F1, F2, ROC-AUC, PR-AUC, log loss
      (binary: of the positive class ``pos_label``, by default the second class; else
      macro averages), confusion matrix, per-class scores, calibration curve;
    * regression: MSE, RMSE, MAE, R2, MAPE;
    * ``slices``: metrics per value of each column named, or per numeric bin
      (``{"age": 4}`` for quartiles, ``{"age": [0, 30, 60, 120]}`` for edges);
    * ``sensitive``: fairness across a column's groups (demographic parity difference,
      equalized odds difference, per-group metrics);
    * ``cv``: k-fold cross-validation (a number of folds or a splitter), refitting a
      clone of the estimator per fold;
    * ``bootstrap``: that many resamples give ``confidence`` intervals.

    When a run is active (or ``run`` is given) and ``log`` is true, the evaluation is
    logged to it: metrics under their plain names (``accuracy``, ``roc_auc``...,
    after ``metric_prefix``; see :meth:`EvaluationResult.flat_metrics` for slices,
    intervals, folds and fairness) and, under ``artifact_path``, ``evaluation.json``,
    ``evaluation.html`` and each plot as PNG and interactive HTML in ``plots/``.

    >>> result = mlcycle.evaluate("runs:/0190.../model", test_df, "churned",
    ...                           slices=["region"], sensitive="gender")  # doctest: +SKIP
    >>> result.metrics["roc_auc"], result.fairness["gender"].equalized_odds_difference
    ... # doctest: +SKIP

    Raises InvalidInputError for data without the target, a target with one class only,
    NaN predictions, and other unusable input.
    """
    target_run = run if run is not None else (active_run() if log else None)
    model_uri = None
    if isinstance(model_or_uri, str | os.PathLike):
        model_uri = os.fspath(model_or_uri)
        model: object = load(model_uri, trusted, client=client)
    else:
        model = model_or_uri
        model_uri = getattr(model, "uri", None)
    if (target is None or task is None) and target_run is not None:
        problem = (client or get_client()).tracking.get_experiment(target_run.experiment_id).problem
        target = target if target is not None else problem.target
        if task is None and problem.task is not Task.OTHER:
            task = problem.task
    if target is None:
        raise InvalidInputError(
            "name the target column: target=... (or state it in the experiment's problem)",
            field="target",
        )
    result = evaluate_model(
        model,
        data,
        target,
        task=task,
        slices=slices,
        sensitive=sensitive,
        cv=cv,
        bootstrap=bootstrap,
        pos_label=pos_label,
        confidence=confidence,
        seed=seed,
        model_uri=model_uri if isinstance(model_uri, str) else None,
    )
    if target_run is None or not log:
        return result
    return log_evaluation(target_run, result, artifact_path=artifact_path, prefix=metric_prefix)


def log_evaluation(
    run: ActiveRun, result: EvaluationResult, *, artifact_path: str = "evaluation", prefix: str = ""
) -> EvaluationResult:
    """Log ``result`` to ``run``: its metrics, then its report, summary and plots as
    artifacts under ``artifact_path``. Returns the result with ``run_id`` set."""
    folder = artifact_path.strip("/")
    with tempfile.TemporaryDirectory(prefix="mlcycle-evaluation-") as tmp:
        result.save(Path(tmp))
        run.log_artifacts(tmp, artifact_path=folder)
    run.log_metrics(result.flat_metrics(prefix))
    if result.model_uri is not None:
        run.set_tag(EVALUATED_MODEL_TAG, result.model_uri)
    run.flush()
    return result.logged(run.id, folder)
