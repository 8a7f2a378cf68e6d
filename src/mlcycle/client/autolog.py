"""Autologging for scikit-learn: ``mlcycle.autolog()``.

Every ``fit`` of a scikit-learn estimator or Pipeline records its params (``get_params``),
fit time, training score, the shape of the training data and the fitted model (as the
artifact folder ``model``, with a signature inferred from the first rows of the training
data) into the active run, or into a new run when none is active. Only the outermost
``fit`` is logged (a Pipeline's steps are part of its params). A second fit inside the
same active run goes to a nested run, so that params, which are immutable, never conflict.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

from mlcycle.client.fluent import active_run, start_run
from mlcycle.errors import MlcycleError
from mlcycle.tracking.run import ActiveRun

TAG_ESTIMATOR = "mlcycle.autolog.estimator"
MODEL_PATH = "model"
EXAMPLE_ROWS = 5

_state = threading.local()
_patched: dict[type[Any], Callable[..., Any]] = {}
_logged_runs: set[str] = set()


def autolog(
    *, disable: bool = False, experiment: str | None = None, log_models: bool = True
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    ``log_models=False`` records params and metrics but not the fitted model.

    >>> import mlcycle
    >>> mlcycle.autolog()
    >>> from sklearn.linear_model import LogisticRegression
    >>> LogisticRegression().fit(X, y)  # doctest: +SKIP  (recorded as a run)
    """
    if disable:
        for cls, saved in list(_patched.items()):
            cls.fit = saved
        _patched.clear()
        return
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators  # scikit-learn is needed only when autologging

    classes: list[type[Any]] = [cls for _, cls in all_estimators()] + [Pipeline]
    for cls in classes:
        original: Callable[..., Any] | None = cls.__dict__.get("fit")
        if original is None or cls in _patched:
            continue
        _patched[cls] = original
        cls.fit = _wrap(original, experiment, log_models)


def _wrap(
    original: Callable[..., Any], experiment: str | None, log_models: bool
) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "depth", 0) > 0:
            return original(self, *args, **kwargs)
        _state.depth = 1
        try:
            return _logged_fit(original, experiment, log_models, self, *args, **kwargs)
        finally:
            _state.depth = 0

    return fit


def _target_run(experiment: str | None, name: str) -> tuple[ActiveRun, bool]:
    """The run to log into, and whether this fit started (and so must end) it."""
    current = active_run()
    if current is None:
        return start_run(experiment=experiment, name=None), True
    if current.id in _logged_runs:
        return start_run(parent=current, name=f"{name}-fit"), True
    return current, False


def _logged_fit(
    original: Callable[..., Any],
    experiment: str | None,
    log_models: bool,
    estimator: Any,
    *args: Any,
    **kwargs: Any,
) -> Any:
    name = type(estimator).__name__
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    run, owned = _target_run(experiment, name)
    try:
        start = time.perf_counter()
        result = original(estimator, *args, **kwargs)
        elapsed = time.perf_counter() - start
        params: dict[str, object] = dict(estimator.get_params(deep=True))
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) >= 1:
            params["data.n_samples"] = shape[0]
            if len(shape) > 1:
                params["data.n_features"] = shape[1]
        run.log_params({k: _short(v) for k, v in params.items() if _loggable(k)})
        run.set_tags({TAG_ESTIMATOR: f"{type(estimator).__module__}.{name}"})
        run.log_metric("training_fit_time_s", elapsed)
        score = _training_score(estimator, X, y)
        if score is not None:
            run.log_metric("training_score", score)
        if log_models:
            _log_model(run, estimator, X)
        _logged_runs.add(run.id)
    except BaseException:
        if owned:
            run.__exit__(*sys.exc_info())
        raise
    if owned:
        run.end()
    return result


def _log_model(run: ActiveRun, estimator: Any, X: Any) -> None:
    """Log the fitted model with a signature from the first training rows; a model that
    cannot be packaged is reported with a warning, never by failing the user's fit."""
    if not callable(getattr(estimator, "predict", None)):
        return  # transformers alone are not models
    head = getattr(X, "head", None)
    if callable(head):  # a DataFrame
        example = head(EXAMPLE_ROWS)
    elif type(X).__module__ == "numpy" and getattr(X, "ndim", 0) == 2:
        example = X[:EXAMPLE_ROWS]
    else:  # sparse matrices, lists: logged without a signature
        example = None
    try:
        run.log_model(estimator, MODEL_PATH, input_example=example)
    except MlcycleError as exc:
        warnings.warn(
            f"autolog could not log the fitted {type(estimator).__name__}: {exc}", stacklevel=4
        )


def _loggable(key: str) -> bool:
    return len(key) <= 250


def _short(value: object) -> object:
    text = str(value)
    return text if len(text) <= 500 else text[:497] + "..."


def _training_score(estimator: Any, X: Any, y: Any) -> float | None:
    if y is None or not hasattr(estimator, "score"):
        return None
    try:
        return float(estimator.score(X, y))
    except Exception:  # some estimators cannot score their own training data
        return None
