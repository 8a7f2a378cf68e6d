"""From a model and a DataFrame to checked arrays of truth and predictions.

Every problem with the input is reported here, before scikit-learn sees it: a missing
target, missing target values, a single class, labels the model does not know, NaN
predictions or probabilities, a non-numeric regression target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.entities import Task
from mlcycle.errors import InvalidInputError, MlcycleError
from mlcycle.evaluation.metrics import ClassificationArrays, RegressionArrays
from mlcycle.models.loaded import LoadedModel

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Outputs:
    """Truth and predictions, checked, for one task."""

    task: Task
    classes: np.ndarray | None = None
    positive_label: object | None = None
    classification: ClassificationArrays | None = None
    regression: RegressionArrays | None = None

    @property
    def n_rows(self) -> int:
        arrays = self.classification or self.regression
        return 0 if arrays is None else len(arrays.y_true)


def as_frame(data: object) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Mapping):
        return pd.DataFrame(dict(data))
    raise InvalidInputError(
        f"data must be a pandas DataFrame (with the target column), got {type(data).__name__}",
        field="data",
    )


def target_values(data: pd.DataFrame, target: str) -> np.ndarray:
    """The target column as an array; InvalidInputError when it is absent or incomplete."""
    if target not in data.columns:
        shown = ", ".join(map(str, list(data.columns)[:20]))
        raise InvalidInputError(
            f"the data has no target column {target!r} (columns: {shown})", field="target"
        )
    if len(data) == 0:
        raise InvalidInputError("the data has no rows to evaluate on", field="data")
    column = data[target]
    missing = int(column.isna().sum())
    if missing:
        raise InvalidInputError(
            f"target column {target!r} has {missing} missing value(s); drop or fill them first",
            field="target",
        )
    return column.to_numpy()


def features(model: object, data: pd.DataFrame, target: str) -> pd.DataFrame:
    """The columns the model predicts from: the signature's for a loaded model, the fitted
    feature names for a scikit-learn estimator, else every column but the target."""
    X = data.drop(columns=[target])
    if isinstance(model, LoadedModel):
        return model.prepare(X)
    try:
        names = getattr(model, "feature_names_in_", None)
    except AttributeError:
        names = None
    if names is None:
        return X
    missing = [str(n) for n in names if n not in X.columns]
    if missing:
        raise InvalidInputError(
            f"column {missing[0]!r} is missing: the model was fitted on it", field=missing[0]
        )
    return X[list(names)]


def model_classes(model: object) -> np.ndarray | None:
    if isinstance(model, LoadedModel):
        return model.classes
    classes = getattr(model, "classes_", None)
    return None if classes is None else np.asarray(classes)


def has_predict_proba(model: object) -> bool:
    if isinstance(model, LoadedModel):
        return model.has_predict_proba
    return callable(getattr(model, "predict_proba", None))


def call_model(model: object, method: str, X: pd.DataFrame) -> np.ndarray:
    """``model.<method>(X)`` as an array; a failure of the model names the method."""
    try:
        return np.asarray(getattr(model, method)(X))
    except MlcycleError:
        raise
    except Exception as exc:  # the user's model failed on the user's data
        raise InvalidInputError(
            f"the model's {method} failed on the evaluation data: {type(exc).__name__}: {exc}",
            field="model",
        ) from exc


def infer_task(task: Task | str | None, model: object, y_true: np.ndarray, target: str) -> Task:
    """The task given, or classification when the model has classes or probabilities or
    the target is not numeric; else regression."""
    import pandas as pd

    if task is not None:
        try:
            chosen = Task(task)
        except ValueError:
            chosen = Task.OTHER
        if chosen is Task.OTHER:
            raise InvalidInputError(
                f"task must be 'classification' or 'regression', got {task!r}", field="task"
            )
        return chosen
    if model_classes(model) is not None or has_predict_proba(model):
        return Task.CLASSIFICATION
    dtype = pd.Series(y_true[:0]).dtype if y_true.dtype == object else y_true.dtype
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    return Task.REGRESSION if numeric else Task.CLASSIFICATION


def check_finite(values: np.ndarray, what: str) -> None:
    import pandas as pd

    missing = np.asarray(pd.isna(values)).reshape(len(values), -1).any(axis=1)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InvalidInputError(
            f"the model returned NaN {what} for {len(rows)} row(s) (first: row {rows[0]}); "
            "metrics need a value for every row",
            field="model",
        )


def classification_outputs(
    y_true: np.ndarray,
    pred: np.ndarray,
    proba: np.ndarray | None,
    classes: np.ndarray | None,
    *,
    target: str,
    positive_label: object | None = None,
    require_two: bool = True,
) -> Outputs:
    """Encode labels as codes in the model's class order and check them."""
    import pandas as pd

    check_finite(pred, "predictions")
    if proba is not None:
        check_finite(proba, "probabilities")
    if classes is None:
        classes = _sorted_labels(np.concatenate([pd.unique(y_true), pd.unique(pred)]))
    index = pd.Index(classes)
    codes = np.asarray(index.get_indexer(y_true))
    unknown = codes < 0
    if unknown.any():
        labels = ", ".join(map(repr, pd.unique(y_true[unknown])[:5].tolist()))
        raise InvalidInputError(
            f"target column {target!r} holds labels the model does not know: {labels} "
            f"(its classes: {', '.join(map(repr, index.tolist()))})",
            field="target",
        )
    pred_codes = np.asarray(index.get_indexer(pred))
    if (pred_codes < 0).any():
        labels = ", ".join(map(repr, pd.unique(pred[pred_codes < 0])[:5].tolist()))
        raise InvalidInputError(
            f"the model predicted labels outside its classes: {labels}", field="model"
        )
    k = len(index)
    present = np.flatnonzero(np.bincount(codes, minlength=k))
    if require_two and len(present) < 2:
        raise InvalidInputError(
            f"target column {target!r} has one class only ({index[present[0]]!r}); "
            "classification metrics need at least two",
            field="target",
        )
    if proba is not None:
        proba = _proba_columns(proba, k)
    pos = None
    label = None
    if k == 2:
        label = classes[1] if positive_label is None else positive_label
        found = index.get_indexer([label])[0]
        if found < 0:
            raise InvalidInputError(
                f"positive label {label!r} is not one of the classes "
                f"{', '.join(map(repr, index.tolist()))}",
                field="pos_label",
            )
        pos = int(found)
    return Outputs(
        task=Task.CLASSIFICATION,
        classes=np.asarray(classes),
        positive_label=_plain(label),
        classification=ClassificationArrays(codes, pred_codes, proba, k, pos),
    )


def regression_outputs(y_true: np.ndarray, pred: np.ndarray, *, target: str) -> Outputs:
    try:
        truth = y_true.astype(float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"regression needs a numeric target; column {target!r} holds {y_true.dtype} "
            "values (pass task='classification' for labels)",
            field="target",
        ) from exc
    check_finite(pred, "predictions")
    if pred.ndim != 1:
        pred = pred.reshape(len(pred), -1)[:, 0] if pred.size == len(pred) else pred
    if pred.ndim != 1 or len(pred) != len(truth):
        raise InvalidInputError(
            f"the model returned predictions of shape {pred.shape} for {len(truth)} rows",
            field="model",
        )
    try:
        predicted = pred.astype(float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            "the model's predictions are not numbers: pass task='classification' for labels",
            field="task",
        ) from exc
    return Outputs(task=Task.REGRESSION, regression=RegressionArrays(truth, predicted))


def _proba_columns(proba: np.ndarray, k: int) -> np.ndarray:
    if not np.issubdtype(proba.dtype, np.floating):
        proba = proba.astype(float)
    if proba.ndim == 1 and k == 2:  # the positive class's probability only
        proba = np.column_stack([1.0 - proba, proba])
    if proba.ndim != 2 or proba.shape[1] != k:
        raise InvalidInputError(
            f"predict_proba returned shape {proba.shape}, but there are {k} classes",
            field="model",
        )
    sums = proba.sum(axis=1, dtype=np.float64)
    off = np.abs(sums - 1.0)
    if (off > 1e-4).any():
        row = int(np.argmax(off))
        raise InvalidInputError(
            f"predict_proba must return probabilities, but row {row} sums to {sums[row]:.6g}",
            field="model",
        )
    if (off > 1e-12).any():  # float32 rounding: rescale so log loss sees exact sums
        proba = proba.astype(np.float64) / sums[:, None]
    return proba


def _sorted_labels(values: np.ndarray) -> np.ndarray:
    import pandas as pd

    unique = pd.unique(values)
    try:
        return np.asarray(sorted(unique.tolist()))
    except TypeError:  # labels of mixed types do not sort
        return np.asarray(unique)


def _plain(value: Any) -> object:
    return value.item() if hasattr(value, "item") else value
