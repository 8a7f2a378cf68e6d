"""A loaded model as the serving process uses it: each request's columns checked against
the signature (cheaply, without pandas), batches predicted in one call.

Checking mirrors :meth:`mlcycle.models.Signature.prepare`: a missing column (unless
optional), a column the model does not know, or a value of the wrong kind is an
:class:`InvalidInputError` naming the column (HTTP 422); integers are accepted for float
columns; floats are not cast to integers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlcycle.bounds import INT64_MAX, INT64_MIN
from mlcycle.errors import InvalidInputError
from mlcycle.models.flavors import flavor_named
from mlcycle.models.flavors.base import uses_feature_names
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.manifest import Flavor
from mlcycle.models.signature import ColumnSpec, DataType
from mlcycle.serving.decode import Inputs
from mlcycle.serving.errors import MalformedRequestError

logger = logging.getLogger("mlcycle.serving")

Columns = dict[str, np.ndarray]
#: A request's checked input: columns by name, or (numbers in the signature's order, the
#: common case) one 2-D float array.
Checked = Columns | np.ndarray

_OIP_TYPES = {
    DataType.FLOAT: "FP64",
    DataType.INTEGER: "INT64",
    DataType.BOOLEAN: "BOOL",
}


@dataclass(frozen=True, slots=True)
class Prediction:
    """What one predict call returned for a batch (all rows)."""

    predictions: np.ndarray
    proba: np.ndarray | None
    columns: Columns


def _xgboost_in_order(native: object, flavor: Flavor, order: list[str] | None) -> bool:
    if flavor is not Flavor.XGBOOST or not hasattr(native, "get_booster"):
        return False  # a plain Booster predicts through a DMatrix
    names = getattr(native, "feature_names_in_", None)  # None: fitted on an array
    return names is None or (order is not None and [str(n) for n in names] == order)


class ServedModel:
    """A :class:`LoadedModel` with the request-time checks and batch prediction.

    ``name`` is the registered model's name (or the model's label), ``version`` its
    registered version (None outside the registry), ``label`` what response headers show.
    """

    def __init__(
        self, model: LoadedModel, *, key: str, name: str, version: int | None, label: str
    ) -> None:
        self.model = model
        self.key = key
        self.name = name
        self.version = version
        self.label = label
        signature = model.signature
        self.specs: tuple[ColumnSpec, ...] | None = signature.inputs if signature else None
        self._by_name = {s.name: s for s in self.specs} if self.specs else {}
        self._order = [s.name for s in self.specs] if self.specs else None
        self.all_float = bool(self.specs) and all(
            s.type is DataType.FLOAT for s in self.specs or ()
        )
        # Columns of these types come out of ``check`` exactly as the signature's own
        # check would leave them, so batches skip it and go to the flavor's predict.
        if model.flavor is Flavor.XGBOOST and callable(getattr(model.native, "set_params", None)):
            # requests are a few rows: a team of OpenMP threads per call costs more than
            # it saves (one row: ~1 ms in one thread, 7 ms of CPU in two on a busy machine)
            model.native.set_params(n_jobs=1)  # type: ignore[attr-defined]
        self._native = flavor_named(model.flavor).wrap(model.native)
        self._direct = self.specs is not None and all(s.type in _DIRECT for s in self.specs)
        # A scikit-learn model fitted without column names takes the float matrix as is;
        # so does an XGBoost estimator whose columns are the signature's, in order (a
        # DataFrame costs XGBoost ~5 ms of conversion per call).
        self._matrix = self.all_float and (
            (model.flavor is Flavor.SKLEARN and not uses_feature_names(model.native))
            or _xgboost_in_order(model.native, model.flavor, self._order)
        )
        self._index: Any = None
        # Classifiers whose predict is the class of the highest probability: a batch that
        # needs probabilities (every logged one) derives its predictions from them
        # instead of a second call into the model (~40% of a small batch's predict).
        self._argmax = _predicts_argmax(model.native) if model.flavor is Flavor.SKLEARN else None
        self.classes: list[Any] | None = (
            model.classes.tolist()
            if model.classes is not None and model.has_predict_proba
            else None
        )

    # -- checking ---------------------------------------------------------------------

    def check(self, inputs: Inputs) -> Checked:
        """The request's columns, typed and in the signature's order."""
        if inputs.rows == 0:
            raise MalformedRequestError("the request has no rows", field="data")
        if inputs.matrix is not None and inputs.names is None:
            matrix = inputs.matrix
            if (
                self.all_float
                and isinstance(matrix, np.ndarray)
                and matrix.ndim == 2
                and matrix.shape[1] == len(self.specs or ())
                and matrix.dtype.kind in "fiu"
                and not (matrix.dtype.kind == "f" and np.isnan(matrix).any())
            ):  # an OIP tensor of numbers in the signature's order (nulls go the long way)
                return matrix.astype(np.float64, copy=False)
            columns = self._from_matrix(matrix)
        else:
            if (
                self.all_float
                and inputs.names == self._order
                and isinstance(inputs.matrix, np.ndarray)
                and inputs.matrix.dtype.kind in "fiu"
            ):  # the common case: numbers in the signature's order, checked at once
                return inputs.matrix.astype(np.float64, copy=False)
            columns = inputs.named_columns() or {}
        if self.specs is None:
            return {name: _plain(name, values) for name, values in columns.items()}
        for name in columns:
            if name not in self._by_name:
                raise InvalidInputError(
                    f"column {name!r} is not an input of the model; its signature has "
                    f"{', '.join(self._by_name)}",
                    field=name,
                )
        out: Columns = {}
        for spec in self.specs:
            values = columns.get(spec.name)
            if values is None:
                if not spec.optional:
                    raise InvalidInputError(
                        f"column {spec.name!r} is missing: the model's signature needs it "
                        f"({spec.type.value})",
                        field=spec.name,
                    )
                out[spec.name] = _missing(spec, inputs.rows)
                continue
            out[spec.name] = _convert(spec, values)
        return out

    def _from_matrix(self, matrix: Any) -> dict[str, Any]:
        width = matrix.shape[1] if isinstance(matrix, np.ndarray) else len(matrix[0])
        names = [s.name for s in self.specs] if self.specs else [str(j) for j in range(width)]
        if width != len(names):
            raise InvalidInputError(
                f"the rows have {width} values but the model's signature has {len(names)} "
                f"columns: {', '.join(names)}",
                field="data",
            )
        if isinstance(matrix, np.ndarray):
            return {name: matrix[:, j] for j, name in enumerate(names)}
        return {name: list(col) for name, col in zip(names, zip(*matrix, strict=True), strict=True)}

    # -- predicting -------------------------------------------------------------------

    def predict(self, parts: list[Checked], *, proba: bool) -> Prediction:
        """Predict the rows of every part in one call (parts come from ``check``)."""
        blocks = [p for p in parts if isinstance(p, np.ndarray)]
        if len(blocks) == len(parts):  # float blocks in the signature's order
            matrix = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
            assert self._order is not None
            columns = {name: matrix[:, j] for j, name in enumerate(self._order)}
            if self._matrix:
                return self._predict_matrix(matrix, columns, proba)
        else:
            dicts = [self._as_columns(p) for p in parts]
            if len(dicts) == 1:
                columns = dicts[0]
            else:
                names = list(dicts[0])
                if any(list(d) != names for d in dicts[1:]):  # no signature: columns differ
                    raise _Heterogeneous()
                columns = {n: np.concatenate([d[n] for d in dicts]) for n in names}
            if self._matrix and all(c.dtype == np.float64 for c in columns.values()):
                return self._predict_matrix(np.column_stack(list(columns.values())), columns, proba)
        frame = self._frame(columns)
        direct = self._direct and not any(
            spec.type is DataType.INTEGER and columns[spec.name].dtype.kind == "f"
            for spec in self.specs or ()
        )
        if direct and proba and self._argmax is not None:
            native: Any = self.model.native
            both = np.asarray(native.predict_proba(frame), dtype=np.float64)
            predictions = self._argmax.predictions(
                both, lambda rows: native.predict(frame.iloc[rows])
            )
            return Prediction(predictions, both, columns)
        if direct:
            predictions = np.asarray(self._native.predict(frame))
        else:
            predictions = self.model.predict(frame)
        probabilities = None
        if proba and self.classes is not None:
            if direct and self._native.predict_proba is not None:
                probabilities = np.asarray(self._native.predict_proba(frame), dtype=np.float64)
            else:
                probabilities = np.asarray(self.model.predict_proba(frame), dtype=np.float64)
        return Prediction(predictions, probabilities, columns)

    def _as_columns(self, part: Checked) -> Columns:
        if isinstance(part, np.ndarray):
            assert self._order is not None
            return {name: part[:, j] for j, name in enumerate(self._order)}
        return part

    def _predict_matrix(self, matrix: np.ndarray, columns: Columns, proba: bool) -> Prediction:
        native: Any = self.model.native
        if proba and self._argmax is not None:
            both = np.asarray(native.predict_proba(matrix), dtype=np.float64)
            predictions = self._argmax.predictions(both, lambda rows: native.predict(matrix[rows]))
            return Prediction(predictions, both, columns)
        predictions = np.asarray(native.predict(matrix))
        probabilities = None
        if proba and self.classes is not None:
            probabilities = np.asarray(native.predict_proba(matrix), dtype=np.float64)
        return Prediction(predictions, probabilities, columns)

    def _frame(self, columns: Columns) -> Any:
        import pandas as pd

        if self.all_float and all(c.dtype == np.float64 for c in columns.values()):
            if self._index is None or list(self._index) != list(columns):
                self._index = pd.Index(list(columns))
            return pd.DataFrame(np.column_stack(list(columns.values())), columns=self._index)
        data: dict[str, Any] = {}
        for name, values in columns.items():
            spec = self._by_name.get(name)
            if spec is not None and spec.type is DataType.INTEGER and values.dtype.kind == "f":
                data[name] = pd.array(values, dtype="Int64")  # integers with missing values
            else:
                data[name] = values
        return pd.DataFrame(data)

    def warm(self) -> None:
        """Predict once (on the saved input example, else a made-up row) so the first
        request does not pay for lazy initialisation."""
        example = self.model.input_example
        try:
            if example is not None:
                inputs = Inputs(
                    rows=len(example),
                    columns={str(c): example[c].to_numpy() for c in example.columns},
                )
            elif self.specs:
                inputs = Inputs(rows=1, columns={s.name: [_SAMPLE[s.type]] for s in self.specs})
            else:
                return
            self.predict([self.check(inputs)], proba=True)
        except Exception:
            if example is not None:
                raise  # the model fails on its own example: it cannot serve
            logger.warning("warming %s on a made-up row failed", self.label, exc_info=True)

    # -- description ------------------------------------------------------------------

    def output_datatype(self, predictions: np.ndarray) -> str:
        kind = predictions.dtype.kind
        return (
            "FP64"
            if kind == "f"
            else "INT64"
            if kind in "iu"
            else "BOOL"
            if kind == "b"
            else "BYTES"
        )

    def metadata(self, served_name: str, versions: list[str]) -> dict[str, Any]:
        """The OIP model metadata document."""
        inputs = [
            {"name": s.name, "datatype": _OIP_TYPES.get(s.type, "BYTES"), "shape": [-1]}
            for s in self.specs or ()
        ]
        outputs: list[dict[str, Any]] = [{"name": "predict", "datatype": "BYTES", "shape": [-1]}]
        if self.classes is not None:
            kinds = {type(c) for c in self.classes}
            outputs[0]["datatype"] = "INT64" if kinds <= {int} else "BYTES"
            outputs.append(
                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(self.classes)]}
            )
        return {
            "name": served_name,
            "versions": versions,
            "platform": f"mlcycle-{self.model.flavor.value}",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": {
                "model": self.name,
                "model_class": self.model.manifest.model_class,
                "classes": self.classes,
            },
        }


#: scikit-learn classifiers whose ``predict`` is the class of the largest value of a
#: score whose ``predict_proba`` is an order-keeping map of it, row by row (the sigmoid or
#: softmax of the decision function; a forest's or tree's probabilities themselves).
_ARGMAX_CLASSIFIERS = frozenset(
    {
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.ensemble._gb.GradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    }
)


def _predicts_argmax(native: object) -> _ArgmaxPredictor | None:
    """An :class:`_ArgmaxPredictor` for ``native`` (or a Pipeline ending in it) when its
    predictions can be read off its probabilities, else None."""
    final = native
    steps = getattr(native, "steps", None)
    if type(native).__name__ == "Pipeline" and isinstance(steps, list) and steps:
        final = steps[-1][1]
    cls = type(final)
    if f"{cls.__module__}.{cls.__qualname__}" not in _ARGMAX_CLASSIFIERS:
        return None
    classes = getattr(final, "classes_", None)
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        return None  # multi-output or not fitted: predict as usual
    return _ArgmaxPredictor(classes)


class _ArgmaxPredictor:
    """Predictions from probabilities: the class of each row's largest probability. A row
    whose largest probability is shared (a tie the rounding of the sigmoid or softmax may
    make from two different scores) is predicted by the model itself, so the answer is
    always what ``predict`` says."""

    def __init__(self, classes: np.ndarray) -> None:
        self.classes = classes

    def predictions(self, proba: np.ndarray, predict_rows: Any) -> np.ndarray:
        top = proba.argmax(axis=1)
        predictions: np.ndarray = self.classes.take(top)
        best = proba[np.arange(len(proba)), top]
        tied = np.flatnonzero((proba == best[:, None]).sum(axis=1) > 1)
        if tied.size:
            predictions[tied] = np.asarray(predict_rows(tied))
        return predictions


class _Heterogeneous(Exception):
    """Parts of a batch have different columns: predict them one by one."""


_DIRECT = frozenset(
    {DataType.FLOAT, DataType.INTEGER, DataType.BOOLEAN, DataType.STRING, DataType.OBJECT}
)

_SAMPLE: dict[DataType, Any] = {
    DataType.FLOAT: 0.0,
    DataType.INTEGER: 0,
    DataType.BOOLEAN: False,
    DataType.STRING: "",
    DataType.CATEGORY: "",
    DataType.DATETIME: "1970-01-01T00:00:00",
    DataType.OBJECT: None,
}


def _wrong(spec: ColumnSpec, found: str) -> InvalidInputError:
    return InvalidInputError(
        f"column {spec.name!r} holds {found} values but the model's signature expects "
        f"{spec.type.value}",
        field=spec.name,
    )


def _array(name: str, values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        array = values
    else:
        try:
            array = np.asarray(values)
        except (ValueError, TypeError):
            array = np.empty(len(values), dtype=object)
            array[:] = values
    if array.ndim != 1:
        raise MalformedRequestError(f"column {name!r} must hold single values", field=name)
    return array


def _plain(name: str, values: Any) -> np.ndarray:
    array = _array(name, values)
    return array.astype(object) if array.dtype.kind in "US" else array


_KIND_WORDS = {"f": "float", "i": "integer", "u": "integer", "b": "boolean", "U": "string"}


def _convert(spec: ColumnSpec, values: Any) -> np.ndarray:
    """The column as the signature's type; a value the model cannot take (a missing value
    in a column that had none in the example, an integer past 64 bits) is refused here,
    naming the column and the row, so bad input never reaches the model."""
    array = _convert_type(spec, values)
    if not spec.optional:
        row = _first_missing(array)
        if row is not None:
            raise InvalidInputError(
                f"column {spec.name!r} has a missing value (null) in row {row}, but the "
                "model's signature does not allow missing values there",
                field=spec.name,
            )
    return array


def _first_missing(array: np.ndarray) -> int | None:
    kind = array.dtype.kind
    if kind == "f":
        missing = np.isnan(array)
    elif kind == "M":
        missing = np.isnat(array)
    elif kind == "O":
        missing = np.fromiter((v is None for v in array.flat), dtype=bool, count=array.size)
    else:
        return None
    found = np.flatnonzero(missing)
    return int(found[0]) if found.size else None


def _check_int64(spec: ColumnSpec, array: np.ndarray) -> None:
    """Refuse integers that int64 cannot hold (a float past 2**63 would cast to garbage).

    A float of -2**63 is refused too: the JSON parser reads an integer past 64 bits as
    the nearest float, so -(2**63) - 1 arrives as exactly -2**63 (an integer literal in
    range arrives as an int, not here)."""
    if array.dtype.kind == "i":
        return  # int64 or narrower already
    if array.dtype.kind in "fu":
        values = array.astype(np.float64) if array.dtype.kind == "u" else array
        with np.errstate(invalid="ignore"):
            outside = np.flatnonzero((values <= -(2.0**63)) | (values >= 2.0**63))
        if outside.size:
            raise InvalidInputError(
                f"column {spec.name!r} has an integer past 64 bits in row {int(outside[0])}",
                field=spec.name,
            )
        return
    for row, value in enumerate(array.flat):
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInputError(
                f"column {spec.name!r} has an integer past 64 bits in row {row}",
                field=spec.name,
            )


def _convert_type(spec: ColumnSpec, values: Any) -> np.ndarray:
    array = _array(spec.name, values)
    kind = array.dtype.kind
    expected = spec.type
    if expected is DataType.FLOAT:
        if kind in "fiu":
            return array.astype(np.float64, copy=False)
        if kind == "O" and _all(array, (int, float), none=True):
            return np.array(array.tolist(), dtype=np.float64)
    elif expected is DataType.INTEGER:
        if kind in "iu":
            _check_int64(spec, array)  # uint64 past 2**63 would wrap around
            return array.astype(np.int64, copy=False)
        if kind == "f" and _integral(array):  # JSON numbers with a zero fraction
            _check_int64(spec, array)
            return array if np.isnan(array).any() else array.astype(np.int64)
        if kind == "O" and _all(array, (int,), none=True):
            _check_int64(spec, array)
            return np.array(array.tolist(), dtype=np.float64)  # NaN for missing; Int64 later
    elif expected is DataType.BOOLEAN:
        if kind == "b":
            return array
        if kind in "iuf" and np.isin(array, (0, 1)).all():  # a numeric row matrix held 0/1
            return array.astype(bool)
        if kind == "O" and _all(array, (bool,), none=True, allow_bool=True):
            return array
    elif expected in (DataType.STRING, DataType.CATEGORY):
        if kind == "U":
            return array.astype(object)
        if kind == "O" and _all(array, (str,), none=True):
            return array
    elif expected is DataType.DATETIME:
        return _datetimes(spec, array)
    else:
        return array.astype(object) if kind in "US" else array
    found = _KIND_WORDS.get(kind) or _mixed(array)
    raise _wrong(spec, found)


def _all(
    array: np.ndarray, types: tuple[type, ...], *, none: bool, allow_bool: bool = False
) -> bool:
    for value in array.flat:
        if value is None and none:
            continue
        if isinstance(value, bool) and not allow_bool:
            return False
        if not isinstance(value, types):
            return False
    return True


def _integral(array: np.ndarray) -> bool:
    finite = array[~np.isnan(array)]
    return bool((finite == np.floor(finite)).all())


def _mixed(array: np.ndarray) -> str:
    kinds = sorted({type(v).__name__ for v in array.flat if v is not None})
    return "/".join(kinds) or "missing"


def _datetimes(spec: ColumnSpec, array: np.ndarray) -> np.ndarray:
    import pandas as pd

    if array.dtype.kind == "M":
        return array
    if array.dtype.kind not in "UO" or not _all(array, (str,), none=True):
        raise _wrong(spec, _KIND_WORDS.get(array.dtype.kind) or _mixed(array))
    try:
        return np.asarray(pd.to_datetime(array.astype(object)).to_numpy())
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"column {spec.name!r} has a value that is not a date/time: {exc}", field=spec.name
        ) from None


def _missing(spec: ColumnSpec, rows: int) -> np.ndarray:
    if spec.type in (DataType.FLOAT, DataType.INTEGER):
        return np.full(rows, np.nan)
    if spec.type is DataType.DATETIME:
        return np.full(rows, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(rows, None, dtype=object)
