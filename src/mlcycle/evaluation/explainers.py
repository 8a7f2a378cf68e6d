"""SHAP values through the ``shap`` library, with the explainer the model family allows.

* tree ensembles and gradient boosting (scikit-learn, XGBoost, LightGBM):
  ``shap.TreeExplainer`` (exact, path-dependent; no background needed). For XGBoost and
  LightGBM, shap hands path-dependent SHAP to the library's own code, which sets up
  per call (a ``DMatrix``, its threads, node means for every tree): 2-50 ms for one row.
  The explainer runs shap's own C extension over the trees shap loaded instead (0.1-0.5
  ms a row), once a check at build time has found it equal to the library's answer on a
  sample of the background (else it keeps the library's path);
* linear models (scikit-learn ``linear_model``): ``shap.LinearExplainer`` over a
  background sample (exact for independent features);
* anything else: ``shap.KernelExplainer`` over a sampled background, one row at a time
  until a time budget runs out (Kernel SHAP rather than the permutation explainer: it
  needs no numba compilation, which costs seconds on first use).

All three are additive: a row's attributions sum to the model's output for the row minus
the expected output (``base_value``). What "output" means is in :attr:`output`: the
log-odds or the probability of the positive class, or the predicted value.

``shap`` is the ``explain`` extra (``pip install 'mlcycle[explain]'``); without it,
:func:`shap_explainer` raises :class:`ShapUnavailableError`, which says so.

>>> explainer = shap_explainer(model, background, positive_index=1)  # doctest: +SKIP
>>> explainer.explain(rows).values.shape  # doctest: +SKIP
(5, 20)
"""

from __future__ import annotations

import importlib
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcycle.errors import InvalidInputError
from mlcycle.evaluation.inputs import call_model
from mlcycle.models.loaded import LoadedModel

if TYPE_CHECKING:
    import pandas as pd

SHAP_INSTALL = "pip install 'mlcycle[explain]'"
#: Coalitions the model-agnostic (Kernel SHAP) explainer samples per row, plus two per
#: feature.
KERNEL_SAMPLES = 256
#: Background rows kept for the linear and model-agnostic explainers.
BACKGROUND_ROWS = 100
#: Background rows on which a tree explainer checks what its attributions add up to.
CHECK_ROWS = 20
#: Tree models whose path-dependent SHAP shap hands to their own library.
EXTENSION_TYPES = ("xgboost", "lightgbm")


class ShapUnavailableError(InvalidInputError):
    """SHAP values were asked for but the ``shap`` package is not installed."""


class ExplanationBudgetError(InvalidInputError):
    """Explaining the rows asked for would take longer than the time budget."""


def require_shap() -> Any:
    """The ``shap`` module (imported on first use: it loads numba), or
    :class:`ShapUnavailableError` saying how to install it."""
    with warnings.catch_warnings():
        # shap's plotting module calls a matplotlib function matplotlib marks deprecated
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return importlib.import_module("shap")
        except ImportError as exc:
            raise ShapUnavailableError(
                f"SHAP values need the shap package: {SHAP_INSTALL}", field="explain"
            ) from exc


@dataclass(frozen=True)
class Attributions:
    """SHAP values of some rows: ``values[row, feature]``; each row sums to its
    ``output`` minus ``base_value``."""

    method: str
    output: str
    features: tuple[str, ...]
    values: np.ndarray
    base_value: float

    def to_rows(self) -> list[dict[str, float]]:
        return [
            {name: float(v) for name, v in zip(self.features, row, strict=True)}
            for row in self.values
        ]


class ShapExplainer:
    """One SHAP explainer, built once (with its background set) and used many times."""

    def __init__(
        self,
        *,
        method: str,
        output: str,
        features: tuple[str, ...],
        compute: Any,
        sign: float = 1.0,
        per_row: bool = False,
        engine: str = "shap",
    ) -> None:
        self.method = method
        #: whose code computes the values: ``"shap"`` (shap's Python and C extension) or
        #: the model's library (``"xgboost"``, ``"lightgbm"``) when shap hands it over
        self.engine = engine
        self.output = output
        self.features = features
        self._compute = compute
        self._sign = sign
        self._per_row = per_row

    @property
    def per_row(self) -> bool:
        """Whether rows are explained one at a time (the model-agnostic explainer), so a
        caller should not merge requests."""
        return self._per_row

    @property
    def takes_arrays(self) -> bool:
        """Whether :meth:`explain` also takes a float array whose columns are
        :attr:`features` in order (the tree and linear explainers), sparing a DataFrame."""
        return not self._per_row

    def explain(
        self, X: pd.DataFrame | np.ndarray, *, budget_s: float | None = None, partial: bool = False
    ) -> Attributions:
        """SHAP values of the rows of ``X`` (a DataFrame, or a 2-D float array with the
        columns of :attr:`features` in order when :attr:`takes_arrays`). With
        ``budget_s``, the model-agnostic explainer works row by row until the budget is
        spent, then returns the rows done (``partial=True``) or raises
        :class:`ExplanationBudgetError`; the exact explainers are fast enough to run
        whole."""
        if isinstance(X, np.ndarray):
            if not self.takes_arrays or X.ndim != 2 or X.shape[1] != len(self.features):
                raise InvalidInputError(
                    f"this explainer takes a DataFrame with columns {', '.join(self.features)}",
                    field="rows",
                )
        else:
            X = X[list(self.features)]
        if not self._per_row or budget_s is None:
            values, base = self._compute(X)
        else:
            deadline = time.perf_counter() + budget_s
            parts = []
            base = 0.0
            for start in range(len(X)):
                if time.perf_counter() > deadline:
                    if partial:
                        break
                    raise ExplanationBudgetError(
                        f"explaining {len(X)} rows takes longer than the {budget_s:g} s "
                        f"budget ({start} explained); ask for fewer rows",
                        field="explain",
                    )
                assert not isinstance(X, np.ndarray)  # arrays go whole (takes_arrays)
                part, base = self._compute(X.iloc[start : start + 1])
                parts.append(part)
            values = np.vstack(parts) if parts else np.zeros((0, len(self.features)))
        return Attributions(
            method=self.method,
            output=self.output,
            features=self.features,
            values=self._sign * np.asarray(values, dtype=float),
            base_value=self._sign * float(base),
        )


def _native(model: object) -> object:
    return model.native if isinstance(model, LoadedModel) else model


def _is_linear(native: object) -> bool:
    module = type(native).__module__
    return module.startswith("sklearn.linear_model") or module.startswith("sklearn.svm._classes")


def _pick(values: Any, base: Any, positive_index: int | None) -> tuple[np.ndarray, float, float]:
    """The values and base of the explained output, and the sign that turns a binary
    model's class-1 output into the positive class's."""
    expected = np.atleast_1d(np.asarray(base, dtype=float))
    if isinstance(values, list):  # older shap: one array per class
        index = positive_index or 0
        return np.asarray(values[index]), float(expected[min(index, len(expected) - 1)]), 1.0
    array = np.asarray(values)
    if array.ndim == 3:
        index = positive_index if positive_index is not None else array.shape[2] - 1
        return array[:, :, index], float(expected[index]), 1.0
    sign = -1.0 if positive_index == 0 else 1.0
    return array, float(expected[-1]), sign


def shap_explainer(
    model: object,
    background: pd.DataFrame,
    *,
    positive_index: int | None,
    positive_label: object = None,
    classifier: bool,
    seed: int | None = 0,
) -> ShapExplainer:
    """The explainer for ``model`` (a LoadedModel or a fitted estimator).

    ``background`` is a sample of the data (a few hundred rows at most is plenty);
    ``positive_index`` the column of the positive class in ``predict_proba`` for a
    binary classifier (``None`` for a regressor). Raises :class:`ShapUnavailableError`
    without the ``shap`` package and InvalidInputError for a multiclass model.
    """
    shap = require_shap()

    if classifier and positive_index is None:
        raise InvalidInputError(
            "SHAP values are computed for regressors and binary classifiers; "
            "permutation importance covers multiclass models",
            field="explain",
        )
    native = _native(model)
    features = tuple(str(c) for c in background.columns)
    rng = np.random.default_rng(seed)
    if len(background) > BACKGROUND_ROWS:
        background = background.iloc[
            np.sort(rng.choice(len(background), BACKGROUND_ROWS, replace=False))
        ]
    positive = "" if positive_label is None else f" of class {positive_label!r}"
    if _is_linear(native):
        linear = shap.LinearExplainer(native, background)

        def linear_values(X: pd.DataFrame) -> tuple[np.ndarray, float]:
            values, base, _ = _pick(linear.shap_values(X), linear.expected_value, positive_index)
            return values, base

        output = f"log-odds{positive}" if classifier else "predicted value"
        sign = -1.0 if classifier and positive_index == 0 else 1.0
        return ShapExplainer(
            method="linear",
            output=output,
            features=features,
            compute=linear_values,
            sign=sign,
        )
    try:
        tree = shap.TreeExplainer(native)
    except Exception:  # shap names the families it knows; any other model is agnostic
        tree = None
    if tree is not None:
        sample = background.iloc[:CHECK_ROWS]
        library = _tree_values(tree)
        found = library(sample)
        # the library's path sets the expected value from its answer (shap's own extension
        # keeps the one it computed at load, which misses XGBoost's base score): keep it
        expected = tree.expected_value
        _, _, sign = _pick(found, expected, positive_index)
        raw_values = _extension_values(shap, native, sample, found, expected, positive_index)
        engine = "shap"
        if raw_values is None:
            raw_values = library
            if tree.model.model_type in EXTENSION_TYPES:
                engine = str(tree.model.model_type)

        def tree_values(X: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, float]:
            values, base, _ = _pick(raw_values(X), expected, positive_index)
            return values, base

        kind = _tree_output(tree_values, model, sample, positive_index, sign, classifier)
        if kind is not None:  # else shap misreads this model: explain it model-agnostically
            return ShapExplainer(
                method="tree",
                output=kind + positive if classifier else kind,
                features=features,
                compute=tree_values,
                sign=sign,
                engine=engine,
            )
    return _kernel_explainer(
        shap, model, background, features, positive_index, positive, classifier
    )


def _tree_values(explainer: Any) -> Any:
    def raw_values(X: pd.DataFrame | np.ndarray) -> Any:
        with warnings.catch_warnings():
            # shap warns on every LightGBM binary call that its output shape changed
            warnings.simplefilter("ignore", UserWarning)
            return explainer.shap_values(X, check_additivity=False)

    return raw_values


def _extension_values(
    shap: Any,
    native: object,
    sample: pd.DataFrame,
    found: Any,
    expected: Any,
    positive_index: int | None,
) -> Any:
    """SHAP values through shap's own C extension over the trees shap loaded, for the
    models whose path-dependent SHAP shap hands to their library (XGBoost, LightGBM);
    None when shap already uses its extension, or when the extension's answer on
    ``sample`` differs from the library's (``found``) or it cannot read the model (such
    as XGBoost's categorical splits)."""
    try:
        fast = shap.TreeExplainer(native)
        if fast.model.model_type not in EXTENSION_TYPES or fast.data is not None:
            return None
        fast.model.model_type = "internal"  # shap's own tree SHAP, not the library's
        values = _tree_values(fast)
        theirs, _, _ = _pick(found, expected, positive_index)
        ours, _, _ = _pick(values(sample), expected, positive_index)
    except Exception:  # whatever shap cannot do here, the library's path still does
        return None
    scale = max(1.0, float(np.abs(theirs).max(initial=0.0)))
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=0, atol=1e-5 * scale):
        return None
    return values


def _tree_output(
    tree_values: Any,
    model: object,
    sample: pd.DataFrame,
    positive_index: int | None,
    sign: float,
    classifier: bool,
) -> str | None:
    """What a tree model's attributions add up to: the probability (random forests) or
    the log-odds (gradient boosting) of a classifier, a regressor's predicted value; None
    when they add up to neither (shap misreads some models, such as scikit-learn's
    histogram boosting with categorical features)."""
    values, base = tree_values(sample)
    total = sign * (values.sum(axis=1) + base)
    if not classifier:
        predicted = call_model(model, "predict", sample).astype(float)
        return "predicted value" if np.allclose(total, predicted, rtol=1e-4, atol=1e-4) else None
    proba = call_model(model, "predict_proba", sample)[:, positive_index]
    if np.allclose(total, proba, atol=1e-6):
        return "probability"
    with np.errstate(divide="ignore"):
        log_odds = np.log(proba) - np.log1p(-proba)
    if np.allclose(total, log_odds, atol=1e-4, rtol=1e-4):
        return "log-odds"
    return None


class _Codes:
    """Non-numeric columns as integer codes (shap's maskers compare numbers), stable
    across calls: a value seen first at explain time gets the next code."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.columns = list(frame.columns)
        self.dtypes = frame.dtypes
        self.coded = [
            i
            for i, column in enumerate(self.columns)
            if not np.issubdtype(np.asarray(frame[column]).dtype, np.number)
        ]
        self.values: dict[int, list[object]] = {i: [] for i in self.coded}
        self.codes: dict[int, dict[object, int]] = {i: {} for i in self.coded}

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        array = frame.to_numpy(dtype=object if self.coded else None)
        for i in self.coded:
            codes, values = self.codes[i], self.values[i]
            for row, value in enumerate(array[:, i]):
                code = codes.get(value)
                if code is None:
                    code = codes[value] = len(values)
                    values.append(value)
                array[row, i] = code
        return np.asarray(array, dtype=float)

    def decode(self, array: np.ndarray) -> pd.DataFrame:
        import pandas as pd

        data: dict[str, Any] = {}
        for i, column in enumerate(self.columns):
            if i in self.codes:
                lookup = np.asarray(self.values[i], dtype=object)
                data[column] = lookup[np.asarray(array[:, i], dtype=int)]
            else:
                data[column] = array[:, i]
        return pd.DataFrame(data).astype(self.dtypes)


def _kernel_explainer(
    shap: Any,
    model: object,
    background: pd.DataFrame,
    features: tuple[str, ...],
    positive_index: int | None,
    positive: str,
    classifier: bool,
) -> ShapExplainer:
    codes = _Codes(background)

    def output_of(array: np.ndarray) -> np.ndarray:
        frame = codes.decode(array)
        if classifier:
            return call_model(model, "predict_proba", frame)[:, positive_index]
        return call_model(model, "predict", frame).astype(float)

    explainer = shap.KernelExplainer(output_of, codes.encode(background))
    samples = KERNEL_SAMPLES + 2 * len(features)

    def kernel_values(X: pd.DataFrame) -> tuple[np.ndarray, float]:
        values = explainer.shap_values(codes.encode(X), nsamples=samples, silent=True)
        return np.asarray(values), float(np.atleast_1d(explainer.expected_value)[0])

    return ShapExplainer(
        method="kernel",
        output=f"probability{positive}" if classifier else "predicted value",
        features=features,
        compute=kernel_values,
        per_row=True,
    )
