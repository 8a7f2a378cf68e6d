"""Model benchmarks for the model packaging and evaluation issue.

1. ``load``: ``mlcycle.models.load`` of a logged scikit-learn Pipeline (ColumnTransformer
   with a scaler and a one-hot encoder, then logistic regression), warm: the median of
   repeated loads after a first one. The model is registered and loaded by alias
   (``models:/bench-churn@champion``): one registry lookup, then the files read in
   place. MLflow loads the same Pipeline with
   ``mlflow.sklearn.load_model`` from its own store, when MLflow is installed.
2. ``evaluate``: ``mlcycle.evaluate`` of a binary classifier on 1,000,000 rows with 5
   slices and no bootstrap, against the time scikit-learn's metric functions alone take
   on the same arrays (the same metrics, overall and per slice, plus the confusion
   matrix, the per-class report and the calibration curve). The model hands back
   precomputed predictions, so both sides time the metrics, not the model; nothing is
   logged (plots are drawn only when logged or saved). The figure is the ratio.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

import mlcycle
from benchmarks._common import (
    Result,
    fmt,
    log,
    perf_counter,
    repeat,
    run_benches,
    temp_dir,
)

SUITE = "models"
BENCHMARKS = ("load", "evaluate")
N_SLICES = 5


@dataclass(frozen=True)
class Sizes:
    train_rows: int = 5_000
    eval_rows: int = 1_000_000
    eval_reps: int = 3


DEFAULT = Sizes()
QUICK = Sizes(train_rows=2_000, eval_rows=100_000, eval_reps=2)


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(24.0, 8.0, n),
            "charges": rng.normal(70.0, 20.0, n),
            "calls": rng.integers(0, 10, n),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "region": rng.choice([f"r{i}" for i in range(N_SLICES)], n),
        }
    )
    signal = (frame["charges"] - 70.0) / 20.0 - (frame["tenure"] - 24.0) / 8.0
    frame["churned"] = (signal + rng.normal(0.0, 0.7, n) > 0).astype(int)
    return frame


def _pipeline(frame: pd.DataFrame) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("num", StandardScaler(), ["tenure", "charges", "calls"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
        ]
    )
    model = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))])
    return model.fit(frame[["tenure", "charges", "calls", "plan"]], frame["churned"])


_mlflow_module: ModuleType | None = None


def _mlflow() -> ModuleType | None:
    """MLflow, imported quietly; None when it is not installed (``make bench`` installs it)."""
    global _mlflow_module
    if _mlflow_module is None:
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("DO_NOT_TRACK", "true")
        warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")
        try:
            import mlflow
        except ImportError:
            return None
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _mlflow_module = mlflow
    return _mlflow_module


# -- 1. load ------------------------------------------------------------------------------


def bench_load(sizes: Sizes) -> Result:
    frame = _frame(sizes.train_rows, seed=0)
    model = _pipeline(frame)
    X = frame[["tenure", "charges", "calls", "plan"]]
    with temp_dir("models-load") as tmp:
        client = mlcycle.Client(f"sqlite:///{tmp / 'mlcycle.db'}", str(tmp / "artifacts"))
        try:
            with client.start_run("bench-models") as run:
                info = run.log_model(model, "model", input_example=X.head(), register="bench-churn")
            mlcycle.registry.set_alias("bench-churn", "champion", 1, client=client)
            uri = "models:/bench-churn@champion"
            first_t0 = perf_counter()
            loaded = mlcycle.models.load(uri, client=client)
            first_ms = (perf_counter() - first_t0) * 1000.0
            if not np.array_equal(loaded.predict(X), model.predict(X)):
                raise AssertionError("the loaded model predicts differently")
            timing = repeat(
                lambda: mlcycle.models.load(uri, client=client), min_reps=10, max_reps=50
            )
        finally:
            client.close()
        ml = _mlflow_load(tmp, model, X)
    log(f"    mlcycle: {timing.text()} (first load {fmt(first_ms)} ms)")
    if ml is not None:
        log(f"    MLflow:  {ml['timing'].text()}")
    return Result(
        name="load",
        what="mlcycle.models.load of a registered scikit-learn Pipeline by alias, warm",
        unit="ms",
        value=timing.median,
        goal=100.0,
        higher_is_better=False,
        mlflow=None if ml is None else ml["timing"].median,
        mlflow_note="" if ml is not None else "MLflow is not installed",
        details={
            "mlcycle": timing.summary(),
            "first_load_ms": first_ms,
            "mlflow": None if ml is None else ml["timing"].summary(),
            "uri": uri,
            "source": info.uri,
        },
    )


def _mlflow_load(tmp: Path, model: Any, X: pd.DataFrame) -> dict[str, Any] | None:
    mlflow = _mlflow()
    if mlflow is None:
        return None
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    try:
        experiment = mlflow.create_experiment("bench-models", artifact_location=str(tmp / "ml"))
        with mlflow.start_run(experiment_id=experiment):
            logged = mlflow.sklearn.log_model(model, name="model", input_example=X.head())
        uri = logged.model_uri
        mlflow.sklearn.load_model(uri)
        timing = repeat(lambda: mlflow.sklearn.load_model(uri), min_reps=5, max_reps=20)
    finally:
        mlflow.set_tracking_uri(previous)
    return {"timing": timing, "uri": uri}


# -- 2. evaluate --------------------------------------------------------------------------


class _Precomputed:
    """A classifier that returns predictions computed beforehand (the model is not timed)."""

    def __init__(self, pred: np.ndarray, proba: np.ndarray) -> None:
        self.classes_ = np.array([0, 1])
        self._pred = pred
        self._proba = proba

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return self._pred

    def predict_proba(self, data: pd.DataFrame) -> np.ndarray:
        return self._proba


def _sklearn_alone(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray, slices: list[np.ndarray]
) -> Callable[[], None]:
    """The same metrics with scikit-learn's functions, called the plain way."""
    from sklearn import metrics as skm
    from sklearn.calibration import calibration_curve

    def scores(t: np.ndarray, p: np.ndarray, pr: np.ndarray) -> None:
        skm.accuracy_score(t, p)
        skm.precision_score(t, p, zero_division=0)
        skm.recall_score(t, p, zero_division=0)
        skm.f1_score(t, p, zero_division=0)
        skm.fbeta_score(t, p, beta=2, zero_division=0)
        skm.roc_auc_score(t, pr[:, 1])
        skm.average_precision_score(t, pr[:, 1])
        skm.log_loss(t, pr, labels=[0, 1])

    def run() -> None:
        scores(y, pred, proba)
        skm.confusion_matrix(y, pred)
        skm.precision_recall_fscore_support(y, pred, zero_division=0)
        calibration_curve(y, proba[:, 1], n_bins=10)
        for index in slices:
            scores(y[index], pred[index], proba[index])

    return run


def bench_evaluate(sizes: Sizes) -> Result:
    train = _frame(sizes.train_rows, seed=1)
    model = _pipeline(train)
    data = _frame(sizes.eval_rows, seed=2)
    X = data[["tenure", "charges", "calls", "plan"]]
    t0 = perf_counter()
    pred = model.predict(X)
    proba = model.predict_proba(X)
    predict_ms = (perf_counter() - t0) * 1000.0
    precomputed = _Precomputed(pred, proba)
    slices = [np.flatnonzero(data["region"].to_numpy() == f"r{i}") for i in range(N_SLICES)]
    y = data["churned"].to_numpy()

    def ours() -> None:
        mlcycle.evaluate(precomputed, data, "churned", slices=["region"], log=False)

    alone = _sklearn_alone(y, pred, proba, slices)
    reps = sizes.eval_reps
    sklearn_timing = repeat(alone, warmup=1, min_reps=reps, max_reps=reps, budget_s=0)
    ours_timing = repeat(ours, warmup=1, min_reps=reps, max_reps=reps, budget_s=0)
    result = mlcycle.evaluate(precomputed, data, "churned", slices=["region"], log=False)
    check = _sklearn_check(y, pred, proba)
    for name, value in check.items():
        if not np.isclose(result.metrics[name], value, rtol=1e-9):
            raise AssertionError(f"{name}: mlcycle {result.metrics[name]} != sklearn {value}")
    end_to_end = repeat(
        lambda: mlcycle.evaluate(model, data, "churned", slices=["region"], log=False),
        warmup=0,
        min_reps=1,
        max_reps=1,
        budget_s=0,
    )
    ratio = ours_timing.median / sklearn_timing.median
    log(f"    scikit-learn metric functions alone: {sklearn_timing.text()}")
    log(f"    mlcycle.evaluate:                    {ours_timing.text()}")
    log(f"    ratio mlcycle / scikit-learn alone:  {ratio:.2f}x (goal <= 1.5x)")
    log(
        f"    with the Pipeline predicting inside evaluate: {fmt(end_to_end.median)} ms "
        f"(its predict + predict_proba alone: {fmt(predict_ms)} ms)"
    )
    return Result(
        name="evaluate",
        what=f"mlcycle.evaluate, {sizes.eval_rows:,} rows, {N_SLICES} slices, no bootstrap, "
        "as a multiple of scikit-learn's metric functions alone",
        unit="x",
        value=ratio,
        goal=1.5,
        higher_is_better=False,
        mlflow_note="the reference is scikit-learn, not MLflow",
        details={
            "rows": sizes.eval_rows,
            "slices": N_SLICES,
            "mlcycle": ours_timing.summary(),
            "sklearn_alone": sklearn_timing.summary(),
            "end_to_end_ms": end_to_end.median,
            "predict_ms": predict_ms,
        },
    )


def _sklearn_check(y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as skm

    return {
        "accuracy": skm.accuracy_score(y, pred),
        "f2": skm.fbeta_score(y, pred, beta=2),
        "roc_auc": skm.roc_auc_score(y, proba[:, 1]),
        "log_loss": skm.log_loss(y, proba),
    }


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "load": bench_load,
    "evaluate": bench_evaluate,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``models.json``.

    Returns False when a benchmark raised (its traceback is printed and recorded).
    """
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
