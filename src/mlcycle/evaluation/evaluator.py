"""Evaluate a model on a DataFrame: the computation behind :func:`mlcycle.evaluate`.

The model predicts once; every metric is then computed once with scikit-learn on NumPy
arrays, for all rows and for each slice (index arrays from one sort per column).
Bootstrap resamples and folds reuse the same metric functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mlcycle.entities import Task
from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.explanation import Explanation, default_metric, explain_model
from mlcycle.evaluation.fairness import FairnessReport, fairness_report
from mlcycle.evaluation.groups import BinSpec, group_rows
from mlcycle.evaluation.importance import Scoring
from mlcycle.evaluation.inputs import (
    Outputs,
    as_frame,
    call_model,
    classification_outputs,
    features,
    has_predict_proba,
    infer_task,
    model_classes,
    regression_outputs,
    target_values,
)
from mlcycle.evaluation.metrics import (
    ClassReport,
    Scores,
    classification_scores,
    ordered,
    regression_scores,
)
from mlcycle.evaluation.plots import (
    Plot,
    calibration_plot,
    confusion_plot,
    pr_plot,
    residuals_plot,
    roc_plot,
)
from mlcycle.evaluation.resampling import bootstrap_intervals, cross_validate
from mlcycle.evaluation.result import Calibration, EvaluationResult

#: Columns to slice by: names (categories, or quartile bins for numeric columns with many
#: values), or a mapping of name to a number of quantile bins or explicit bin edges.
SliceSpec = str | Sequence[str] | Mapping[str, BinSpec]
CALIBRATION_BINS = 10


def evaluate_model(
    model: object,
    data: object,
    target: str,
    *,
    task: Task | str | None = None,
    slices: SliceSpec | None = None,
    sensitive: str | Sequence[str] | None = None,
    cv: object | None = None,
    bootstrap: int = 0,
    pos_label: object | None = None,
    confidence: float = 0.95,
    seed: int | None = 0,
    model_uri: str | None = None,
    explain: bool = False,
    importance_metric: str | None = None,
    importance_repeats: int = 5,
    explain_budget_s: float = 60.0,
) -> EvaluationResult:
    """Evaluate ``model`` (a LoadedModel or any object with ``predict``) on ``data``.

    See :func:`mlcycle.evaluate` for the parameters; this function logs nothing.
    """
    frame = as_frame(data)
    if not isinstance(target, str) or not target:
        raise InvalidInputError("target must name the target column", field="target")
    if not isinstance(bootstrap, int) or bootstrap < 0:
        raise InvalidInputError(
            f"bootstrap must be a number of resamples (0 for none), got {bootstrap!r}",
            field="bootstrap",
        )
    y = target_values(frame, target)
    chosen = infer_task(task, model, y, target)
    X = features(model, frame, target)
    pred = call_model(model, "predict", X)
    if len(pred) != len(y):
        raise InvalidInputError(
            f"the model returned {len(pred)} predictions for {len(y)} rows", field="model"
        )
    report: ClassReport | None = None
    proba: np.ndarray | None = None
    if chosen is Task.CLASSIFICATION:
        proba = call_model(model, "predict_proba", X) if has_predict_proba(model) else None
        outputs = classification_outputs(
            y, pred, proba, model_classes(model), target=target, positive_label=pos_label
        )
        classified = outputs.classification
        assert classified is not None

        def scores_of(index: np.ndarray | None) -> Scores:
            return classification_scores(classified.subset(index))[0]

        overall, report = classification_scores(classified, report=True)
    else:
        outputs = regression_outputs(y, pred, target=target)
        regressed = outputs.regression
        assert regressed is not None

        def scores_of(index: np.ndarray | None) -> Scores:
            return regression_scores(regressed.subset(index))

        overall = regression_scores(regressed)

    intervals = {}
    if bootstrap:
        intervals = bootstrap_intervals(
            scores_of, outputs.n_rows, resamples=bootstrap, confidence=confidence, seed=seed
        )
    cross = None
    if cv is not None:
        cross = cross_validate(
            model,
            X,
            y,
            task=chosen,
            classes=outputs.classes,
            positive_label=outputs.positive_label,
            cv=cv,
            seed=seed,
            target=target,
        )
    calibration = _calibration(outputs)
    explanation = None
    if explain:
        explanation = _explain(
            model,
            frame,
            X,
            y,
            pred,
            proba,
            outputs,
            slices=slices,
            metric=importance_metric,
            repeats=importance_repeats,
            seed=seed,
            confidence=confidence,
            budget_s=explain_budget_s,
        )
    plots = _plots(outputs, overall, report, calibration, seed)
    if explanation is not None:
        plots.update(explanation.plots())
    classes = None if outputs.classes is None else tuple(outputs.classes.tolist())
    return EvaluationResult(
        task=chosen,
        target=target,
        n_rows=outputs.n_rows,
        metrics={k: v for k, v in ordered(overall).items() if v is not None},
        classes=classes,
        positive_label=outputs.positive_label,
        confusion_matrix=None
        if report is None
        else tuple(tuple(int(c) for c in row) for row in report.confusion_matrix),
        per_class=None if report is None or classes is None else _per_class(report, classes),
        calibration=calibration,
        slices=_slices(frame, slices, scores_of),
        fairness=_fairness(frame, sensitive, scores_of, outputs),
        intervals=intervals,
        confidence=confidence if bootstrap else None,
        cv=cross,
        plots=plots,
        explanation=explanation,
        model_uri=model_uri,
    )


def _explain(
    model: object,
    frame: Any,
    X: Any,
    y: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    outputs: Outputs,
    *,
    slices: SliceSpec | None,
    metric: str | None,
    repeats: int,
    seed: int | None,
    confidence: float,
    budget_s: float,
) -> Explanation:
    arrays = outputs.classification
    binary = arrays is not None and arrays.pos is not None and proba is not None
    chosen = metric or default_metric(arrays is not None, binary)
    if chosen == "roc_auc" and not binary:
        raise InvalidInputError(
            "importance_metric 'roc_auc' needs a binary classifier with predict_proba",
            field="importance_metric",
        )
    if (arrays is None and chosen in {"accuracy", "roc_auc"}) or (
        arrays is not None and chosen in {"r2", "rmse", "mae"}
    ):
        raise InvalidInputError(
            f"importance_metric {chosen!r} does not fit a {outputs.task.value} model",
            field="importance_metric",
        )
    positive_index = None if arrays is None else arrays.pos
    if chosen == "roc_auc":
        assert arrays is not None
        assert proba is not None
        assert positive_index is not None
        scoring = Scoring(
            metric=chosen, y_true=arrays.y_true == arrays.pos, positive_index=positive_index
        )
        baseline = proba[:, positive_index]
    else:
        truth = y if arrays is not None else np.asarray(y, dtype=float)
        scoring = Scoring(metric=chosen, y_true=truth, positive_index=positive_index)
        baseline = pred
    groups = {
        column: list(zip(grouping.labels, grouping.indices, strict=True))
        for column, grouping in (
            (column, group_rows(frame, column, spec))
            for column, spec in _slice_specs(slices).items()
        )
    }
    return explain_model(
        model,
        X,
        scoring=scoring,
        baseline_output=baseline,
        classifier=arrays is not None,
        positive_label=outputs.positive_label,
        slices=groups,
        repeats=repeats,
        seed=seed,
        confidence=confidence,
        budget_s=budget_s,
    )


def _slice_specs(slices: SliceSpec | None) -> dict[str, BinSpec]:
    if slices is None:
        return {}
    if isinstance(slices, str):
        return {slices: None}
    if isinstance(slices, Mapping):
        return {str(k): v for k, v in slices.items()}
    if isinstance(slices, Sequence):
        return dict.fromkeys((str(c) for c in slices), None)
    raise InvalidInputError(
        "slices must be a column name, a list of names, or a mapping of name to bins",
        field="slices",
    )


def _slices(
    frame: Any, slices: SliceSpec | None, scores_of: Callable[[np.ndarray], Scores]
) -> dict[str, dict[str, dict[str, float | None]]]:
    found: dict[str, dict[str, dict[str, float | None]]] = {}
    for column, spec in _slice_specs(slices).items():
        grouping = group_rows(frame, column, spec)
        found[column] = {
            label: {"n": float(len(index)), **ordered(scores_of(index))}
            for label, index in zip(grouping.labels, grouping.indices, strict=True)
        }
    return found


def _fairness(
    frame: Any,
    sensitive: str | Sequence[str] | None,
    scores_of: Callable[[np.ndarray], Scores],
    outputs: Outputs,
) -> dict[str, FairnessReport]:
    if sensitive is None:
        return {}
    columns = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    return {
        column: fairness_report(group_rows(frame, column), scores_of, outputs.classification)
        for column in columns
    }


def _calibration(outputs: Outputs) -> Calibration | None:
    arrays = outputs.classification
    if arrays is None or arrays.pos is None or arrays.proba is None:
        return None
    from sklearn.calibration import calibration_curve

    prob_true, prob_pred = calibration_curve(
        arrays.y_true == arrays.pos, arrays.proba[:, arrays.pos], n_bins=CALIBRATION_BINS
    )
    return Calibration(tuple(prob_pred.tolist()), tuple(prob_true.tolist()))


def _per_class(report: ClassReport, classes: tuple[Any, ...]) -> dict[str, dict[str, float]]:
    return {
        str(label): {
            "precision": float(report.precision[i]),
            "recall": float(report.recall[i]),
            "f1": float(report.f1[i]),
            "f2": float(report.f2[i]),
            "support": float(report.support[i]),
        }
        for i, label in enumerate(classes)
    }


def _plots(
    outputs: Outputs,
    scores: Scores,
    report: ClassReport | None,
    calibration: Calibration | None,
    seed: int | None,
) -> dict[str, Plot]:
    plots: dict[str, Plot] = {}
    arrays = outputs.classification
    if arrays is not None:
        if arrays.pos is not None and arrays.proba is not None:
            positive = arrays.y_true == arrays.pos
            score = arrays.proba[:, arrays.pos]
            plots["roc"] = roc_plot(positive, score, scores.get("roc_auc"))
            plots["pr"] = pr_plot(positive, score, scores.get("pr_auc"))
        if report is not None and outputs.classes is not None:
            labels = [str(c) for c in outputs.classes.tolist()]
            plots["confusion_matrix"] = confusion_plot(report.confusion_matrix, labels)
        if calibration is not None:
            plots["calibration"] = calibration_plot(
                np.asarray(calibration.prob_true), np.asarray(calibration.prob_pred)
            )
    if outputs.regression is not None:
        plots["residuals"] = residuals_plot(
            outputs.regression.y_true, outputs.regression.y_pred, seed
        )
    return plots
