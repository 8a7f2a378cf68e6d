"""From a chunk of input rows (an Arrow table) to the rows of the output.

The output of a chunk holds, in this order: the pass-through columns (``keep``), the
predictions (``prediction``, or ``prediction_0``, ``prediction_1``... when the model
predicts several values per row), the class probabilities of a classifier
(``proba_<class>``, one column per class in the order of ``model.classes``), and the model
columns when asked for (``model_name``, ``model_version``, ``model_uri``, dictionary
encoded, so they cost a few bytes per chunk), and with ``explain`` each feature's SHAP
value (``shap_<feature>``).

Two ways to feed the model, same predictions:

* **NumPy** (scikit-learn models whose signature takes only numeric columns that the
  input has as numbers): the chunk's columns are copied once into one 2-D array, the way
  the model's own ``predict`` on an array would receive them; no pandas.
* **pandas** (everything else): the chunk becomes a DataFrame, checked and cast against
  the signature (:meth:`LoadedModel.prepare`), then predicted by the model's flavor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.errors import InvalidInputError
from mlcycle.models.flavors.base import uses_feature_names
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.manifest import Flavor
from mlcycle.models.signature import DataType

if TYPE_CHECKING:  # explanations load with the first job that asks for them
    from mlcycle.evaluation.explainers import ShapExplainer

PREDICTION = "prediction"
PROBA_PREFIX = "proba_"
SHAP_PREFIX = "shap_"

Predict = Callable[[Any], Any]


class ChunkPredictor:
    """Predicts chunks of ``schema``-shaped input with ``model``.

    The constructor checks everything that can be checked before reading any data: the
    columns the signature needs are in the input (InvalidInputError naming the missing
    column or the column of the wrong type), ``keep`` names input columns, and no output
    column name is taken twice.

    ``probabilities``: None adds the class probabilities when the model has
    ``predict_proba``; True requires them; False leaves them out.
    """

    def __init__(
        self,
        model: LoadedModel,
        schema: pa.Schema,
        *,
        keep: Sequence[str] = (),
        probabilities: bool | None = None,
        constants: Mapping[str, pa.Scalar] | None = None,
        explain: bool = False,
    ) -> None:
        self.model = model
        self.keep = _check_keep(keep, schema)
        if probabilities and not model.has_predict_proba:
            raise InvalidInputError(
                f"the model ({model.manifest.model_class}) has no predict_proba, so no "
                "class probabilities can be written",
                field="probabilities",
            )
        self.probabilities = model.has_predict_proba if probabilities is None else probabilities
        self.constants = dict(constants or {})
        signature = model.signature
        if signature is None:
            self.features = list(schema.names)
        else:
            self.features = [n for n in signature.column_names if n in schema.names]
            # Checks names and types on an empty frame: errors before any row is read.
            model.prepare(schema.empty_table().select(self.features).to_pandas())
        self.columns = list(dict.fromkeys([*self.features, *self.keep]))
        self.proba_names = self._proba_names() if self.probabilities else []
        self.explain = explain
        self.shap_names = [f"{SHAP_PREFIX}{name}" for name in self.features] if explain else []
        self._explainer: ShapExplainer | None = None
        self._explainer_lock = threading.Lock()
        if explain:
            from mlcycle.evaluation.explainers import require_shap

            require_shap()  # says how to install it, before any row is read
            classes = model.classes
            if classes is not None and len(classes) != 2:
                raise InvalidInputError(
                    "SHAP values are written for regressors and binary classifiers",
                    field="explain",
                )
        self._check_names([PREDICTION, *self.proba_names, *self.constants, *self.shap_names])
        self.matrix_dtype = _matrix_dtype(model, schema, self.features)
        self._predict, self._predict_proba = self._array_methods()

    def __getstate__(self) -> dict[str, Any]:
        # process and Ray executors pickle the predictor: the explainer is rebuilt there
        state = dict(self.__dict__)
        state["_explainer"] = None
        del state["_explainer_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._explainer_lock = threading.Lock()

    @property
    def uses_numpy(self) -> bool:
        """True when chunks are fed to the model as one NumPy array, without pandas."""
        return self.matrix_dtype is not None

    def __call__(self, table: pa.Table) -> pa.Table:
        """The output rows of one chunk of input rows."""
        features = table.select(self.features)
        if self.matrix_dtype is not None and not _has_null_integers(features):
            data: Any = self._as_model_input(_matrix(features, self.matrix_dtype))
            predict, predict_proba = self._predict, self._predict_proba
        else:
            data = self.model.prepare(features.to_pandas())
            predict, predict_proba = self.model.predict, self.model.predict_proba
        predictions = np.asarray(predict(data))
        probabilities = np.asarray(predict_proba(data)) if self.probabilities else None
        out = self._output(table, predictions, probabilities)
        if self.explain:
            frame = self.model.prepare(features.to_pandas())
            values = self._explainer_for(frame).explain(frame).values
            for j, name in enumerate(self.shap_names):
                out = out.append_column(name, pa.array(values[:, j]))
        return out

    def _explainer_for(self, frame: pd.DataFrame) -> ShapExplainer:
        """Built once, on the first chunk, with its background drawn from the model's
        input example (else from that chunk)."""
        with self._explainer_lock:
            if self._explainer is None:
                example = self.model.input_example
                background = frame if example is None else self.model.prepare(example)
                classifier = self.model.classes is not None and self.model.has_predict_proba
                from mlcycle.evaluation.explainers import shap_explainer

                self._explainer = shap_explainer(
                    self.model,
                    background,
                    positive_index=1 if classifier else None,
                    positive_label=None if not classifier else self.model.classes[1],  # type: ignore[index]
                    classifier=classifier,
                )
            return self._explainer

    # -- helpers ------------------------------------------------------------------------------

    def _proba_names(self) -> list[str]:
        classes = self.model.classes
        if classes is None:
            raise InvalidInputError(
                "the model has predict_proba but its classes are unknown; pass "
                "probabilities=False (--no-proba)",
                field="probabilities",
            )
        names = [f"{PROBA_PREFIX}{c}" for c in classes.tolist()]
        if len(set(names)) != len(names):
            names = [f"{PROBA_PREFIX}{i}" for i in range(len(names))]
        return names

    def _check_names(self, outputs: Sequence[str]) -> None:
        taken = [n for n in outputs if n in self.keep]
        if taken:
            raise InvalidInputError(
                f"the kept column {taken[0]!r} has the name of an output column; keep "
                "another column or rename it",
                field="keep",
            )

    def _array_methods(self) -> tuple[Predict, Predict]:
        native: Any = self.model.native
        proba = getattr(native, "predict_proba", None) if self.probabilities else None
        return native.predict, proba or _no_proba

    def _as_model_input(self, matrix: np.ndarray) -> Any:
        if uses_feature_names(self.model.native):
            # Fitted on a DataFrame: give it one (one block, no copy) with the same names.
            return pd.DataFrame(matrix, columns=self.features, copy=False)
        return matrix

    def _output(
        self, table: pa.Table, predictions: np.ndarray, probabilities: np.ndarray | None
    ) -> pa.Table:
        rows = table.num_rows
        columns: dict[str, Any] = {name: table.column(name) for name in self.keep}
        if predictions.ndim == 0 or len(predictions) != rows:
            raise InvalidInputError(
                f"the model returned {predictions.size} predictions for {rows} rows",
                field="model",
            )
        if predictions.ndim == 1:
            columns[PREDICTION] = _array(predictions, PREDICTION)
        else:
            flat = predictions.reshape(rows, -1)
            names = [f"{PREDICTION}_{i}" for i in range(flat.shape[1])]
            self._check_names(names)
            for i, name in enumerate(names):
                columns[name] = _array(flat[:, i], name)
        if probabilities is not None:
            if probabilities.shape != (rows, len(self.proba_names)):
                raise InvalidInputError(
                    f"predict_proba returned shape {probabilities.shape} for {rows} rows "
                    f"and {len(self.proba_names)} classes",
                    field="model",
                )
            for i, name in enumerate(self.proba_names):
                columns[name] = pa.array(probabilities[:, i])
        for name, value in self.constants.items():
            columns[name] = _constant(value, rows)
        return pa.table(columns)


def _no_proba(data: object) -> Any:
    raise AssertionError("probabilities were not asked for")


def _check_keep(keep: Sequence[str], schema: pa.Schema) -> list[str]:
    names = [keep] if isinstance(keep, str) else list(keep)
    for name in names:
        if name not in schema.names:
            raise InvalidInputError(
                f"cannot keep column {name!r}: the input has no such column "
                f"(columns: {', '.join(schema.names)})",
                field="keep",
            )
    return list(dict.fromkeys(names))


def _matrix_dtype(model: LoadedModel, schema: pa.Schema, features: list[str]) -> np.dtype | None:
    """The dtype of the array the model's own predict would get, when a NumPy array can
    replace the DataFrame without changing what the model sees; else None."""
    signature = model.signature
    if model.flavor is not Flavor.SKLEARN or signature is None or not features:
        return None
    dtypes: list[np.dtype] = []
    for spec in signature.inputs:
        if spec.name not in schema.names:
            return None  # an optional column the signature fills in
        kind = schema.field(spec.name).type
        if spec.type is DataType.FLOAT and pa.types.is_floating(kind):
            dtypes.append(np.dtype(kind.to_pandas_dtype()))
        elif spec.type is DataType.FLOAT and pa.types.is_integer(kind):
            target = np.dtype(spec.dtype) if spec.dtype.startswith("float") else None
            dtypes.append(target if target is not None else np.dtype("float64"))
        elif spec.type is DataType.INTEGER and pa.types.is_integer(kind):
            dtypes.append(np.dtype(kind.to_pandas_dtype()))
        else:
            return None
    common = np.result_type(*dtypes)
    if uses_feature_names(model.native) and any(d != common for d in dtypes):
        return None  # the model sees each column's own dtype in a DataFrame
    return common


def _has_null_integers(table: pa.Table) -> bool:
    return any(pa.types.is_integer(c.type) and c.null_count for c in table.columns)


def _matrix(table: pa.Table, dtype: np.dtype) -> np.ndarray:
    """The table's columns side by side in one Fortran-ordered array (one copy)."""
    out = np.empty((table.num_rows, table.num_columns), dtype=dtype, order="F")
    for j, column in enumerate(table.columns):
        row = 0
        for piece in column.chunks:
            size = len(piece)
            out[row : row + size, j] = piece.to_numpy(zero_copy_only=False)
            row += size
    return out


def _array(values: np.ndarray, name: str) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInputError(
            f"the model's output {name!r} cannot be stored in Parquet: {exc}", field="model"
        ) from exc


def _constant(value: pa.Scalar, rows: int) -> pa.Array:
    """``value`` repeated ``rows`` times, dictionary encoded (one value, int8 indices)."""
    if not value.is_valid:  # Parquet cannot store a null inside a dictionary
        return pa.DictionaryArray.from_arrays(pa.nulls(rows, pa.int8()), pa.array([], value.type))
    dictionary = pa.array([value.as_py()], type=value.type)
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int8)), dictionary)
