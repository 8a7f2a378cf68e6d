"""Batch prediction benchmarks for the deployment issue.

Both time ``mlcycle.batch.predict`` of a LogisticRegression (trained on
``make_classification(10_000, 20 features)``) over 1,000,000 rows x 20 float features
stored in Parquet, end to end: read the Parquet file, predict, write the Parquet output.
mlcycle's time includes loading the model from its folder (about a millisecond, printed
apart); the baseline's model is in memory. The figure is the time as a
multiple of the model's own ``predict`` on the same rows already in memory as a NumPy
array (goal: within 1.2x).

1. ``predict_1m``: labels and class probabilities (the default output).
2. ``predict_1m_labels``: labels only (``probabilities=False``), against MLflow's way
   (``pd.read_parquet`` -> ``mlflow.pyfunc`` model ``predict`` -> ``DataFrame.to_parquet``,
   the pyfunc model loaded beforehand), when MLflow is installed.

Printed beside them, to show where the time goes: the floors (reading the input Parquet
file alone with pyarrow, writing the output alone, ``predict_proba`` on the in-memory
array) and a hand-written pipeline doing the same work the plain way (``pq.read_table``,
one NumPy array, ``predict`` + ``predict_proba``, ``pq.write_table``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import mlcycle
import mlcycle.batch
from benchmarks._common import Result, Timing, fmt, log, repeat, run_benches, temp_dir

SUITE = "batch"
BENCHMARKS = ("predict_1m", "predict_1m_labels")
FEATURES = 20


@dataclass(frozen=True)
class Sizes:
    rows: int = 1_000_000
    reps: int = 5
    workers: int = 2


DEFAULT = Sizes()
QUICK = Sizes(rows=100_000, reps=2)


def _data(rows: int) -> tuple[Any, np.ndarray, list[str]]:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X_train, y_train = make_classification(10_000, FEATURES, random_state=0)
    model = LogisticRegression().fit(X_train, y_train)
    X, _ = make_classification(rows, FEATURES, random_state=1)
    return model, X, [f"f{i}" for i in range(FEATURES)]


def _timed(fn: Callable[[], object], reps: int) -> Timing:
    return repeat(fn, warmup=1, min_reps=reps, max_reps=reps, budget_s=0)


def _cpu_ms(fn: Callable[[], object], reps: int) -> float:
    """The median CPU time of ``fn`` (all threads of this process), in ms: the work done,
    which other processes on a shared machine disturb less than the wall-clock time."""
    samples = []
    for _ in range(reps):
        started = time.process_time()
        fn()
        samples.append((time.process_time() - started) * 1000.0)
    return statistics.median(samples)


@dataclass
class _Figures:
    predict: Timing
    proba: Timing
    read: Timing
    write: Timing
    by_hand: Timing
    load: Timing
    ours: Timing
    ours_labels: Timing
    mlflow: Timing | None
    numpy_path: bool
    cpu_predict_ms: float
    cpu_ours_ms: float


_measured: dict[Sizes, _Figures] = {}


def _measure(sizes: Sizes) -> _Figures:
    """Every timing of the suite, taken once for both results."""
    if sizes in _measured:
        return _measured[sizes]
    model, X, names = _data(sizes.rows)
    with temp_dir("batch") as tmp:
        source = tmp / "input.parquet"
        pq.write_table(pa.table({n: X[:, i] for i, n in enumerate(names)}), source)
        model_dir = tmp / "model"
        mlcycle.models.save(model, model_dir, input_example=pd.DataFrame(X[:5], columns=names))
        out = tmp / "preds.parquet"
        load = _timed(lambda: mlcycle.models.load(model_dir), sizes.reps)

        def ours(probabilities: bool | None = None) -> mlcycle.batch.BatchResult:
            return mlcycle.batch.predict(
                model_dir, source, out, workers=sizes.workers, probabilities=probabilities
            )

        result = ours()
        written = pq.read_table(out)
        if not np.array_equal(written.column("prediction").to_numpy(), model.predict(X)):
            raise AssertionError("mlcycle's batch predictions differ from model.predict")
        if not np.allclose(written.column("proba_1").to_numpy(), model.predict_proba(X)[:, 1]):
            raise AssertionError("mlcycle's probabilities differ from model.predict_proba")

        output = pa.table(
            {
                "prediction": model.predict(X),
                **{f"proba_{i}": c for i, c in enumerate(model.predict_proba(X).T)},
            }
        )
        figures = _Figures(
            predict=_timed(lambda: model.predict(X), sizes.reps),
            proba=_timed(lambda: (model.predict(X), model.predict_proba(X)), sizes.reps),
            read=_timed(lambda: pq.read_table(source), sizes.reps),
            write=_timed(lambda: pq.write_table(output, tmp / "w.parquet"), sizes.reps),
            by_hand=_timed(partial(_by_hand, model, source, tmp / "h.parquet"), sizes.reps),
            load=load,
            ours=_timed(ours, sizes.reps),
            ours_labels=_timed(partial(ours, False), sizes.reps),
            mlflow=_mlflow(tmp, model, X, names, source, sizes.reps),
            numpy_path=result.uses_numpy,
            cpu_predict_ms=_cpu_ms(lambda: model.predict(X), sizes.reps),
            cpu_ours_ms=_cpu_ms(ours, sizes.reps),
        )
    _report(figures, sizes)
    _measured[sizes] = figures
    return figures


def _report(f: _Figures, sizes: Sizes) -> None:
    base = f.predict.median
    log(f"    rows: {sizes.rows:,} x {FEATURES} float features; {sizes.workers} workers")
    log(f"    model.predict on the in-memory array:   {f.predict.text()}")
    log(f"    + predict_proba (same outputs as ours): {f.proba.text()}")
    log(f"    floor: read the Parquet input alone:   {f.read.text()}")
    log(f"    floor: write the Parquet output alone: {f.write.text()}")
    log(f"    by hand (read, predict, write):         {f.by_hand.text()}")
    log(f"    mlcycle (labels + probabilities):       {f.ours.text()}")
    log(f"    mlcycle (labels only):                  {f.ours_labels.text()}")
    if f.mlflow is not None:
        log(f"    MLflow pyfunc (labels only):            {f.mlflow.text()}")
    log(f"    (of which loading the model from its folder: {f.load.text()})")
    log(
        f"    ratio mlcycle / model.predict: {f.ours.median / base:.2f}x (goal <= 1.2x); "
        f"labels only {f.ours_labels.median / base:.2f}x; "
        f"vs predict + predict_proba {f.ours.median / f.proba.median:.2f}x; "
        f"vs the hand-written pipeline {f.ours.median / f.by_hand.median:.2f}x"
    )
    log(
        f"    CPU time (all threads): model.predict {fmt(f.cpu_predict_ms)} ms, mlcycle "
        f"{fmt(f.cpu_ours_ms)} ms ({f.cpu_ours_ms / f.cpu_predict_ms:.2f}x)"
    )
    if f.read.median > 1.2 * base:
        log(
            f"    reading the input alone takes {f.read.median / base:.2f}x model.predict: "
            "the goal is out of reach of any reader of this file on this machine"
        )


def _details(f: _Figures, sizes: Sizes) -> dict[str, Any]:
    base = f.predict.median
    return {
        "rows": sizes.rows,
        "workers": sizes.workers,
        "numpy_path": f.numpy_path,
        "predict": f.predict.summary(),
        "predict_and_proba": f.proba.summary(),
        "read_floor": f.read.summary(),
        "write_floor": f.write.summary(),
        "by_hand": f.by_hand.summary(),
        "mlcycle": f.ours.summary(),
        "mlcycle_labels_only": f.ours_labels.summary(),
        "mlflow": None if f.mlflow is None else f.mlflow.summary(),
        "model_load": f.load.summary(),
        "ratio_vs_predict_and_proba": f.ours.median / f.proba.median,
        "ratio_vs_by_hand": f.ours.median / f.by_hand.median,
        "read_floor_ratio": f.read.median / base,
        "cpu_predict_ms": f.cpu_predict_ms,
        "cpu_mlcycle_ms": f.cpu_ours_ms,
    }


def bench_predict(sizes: Sizes) -> Result:
    f = _measure(sizes)
    return Result(
        name="predict_1m",
        what=f"mlcycle.batch.predict, {sizes.rows:,} rows x {FEATURES} features, Parquet in "
        "and out, labels + probabilities, as a multiple of model.predict on in-memory arrays",
        unit="x",
        value=f.ours.median / f.predict.median,
        goal=1.2,
        higher_is_better=False,
        mlflow_note="MLflow's pyfunc writes labels only: see predict_1m_labels",
        details=_details(f, sizes),
    )


def bench_labels(sizes: Sizes) -> Result:
    f = _measure(sizes)
    base = f.predict.median
    return Result(
        name="predict_1m_labels",
        what="the same with labels only (probabilities=False), against MLflow's "
        "pd.read_parquet + pyfunc predict + to_parquet",
        unit="x",
        value=f.ours_labels.median / base,
        goal=1.2,
        higher_is_better=False,
        mlflow=None if f.mlflow is None else f.mlflow.median / base,
        mlflow_note="" if f.mlflow is not None else "MLflow is not installed",
        details=_details(f, sizes),
    )


def _by_hand(model: Any, source: Path, out: Path) -> None:
    table = pq.read_table(source)
    X = np.column_stack([c.to_numpy() for c in table.columns])
    proba = model.predict_proba(X)
    columns = {"prediction": model.predict(X)}
    columns.update({f"proba_{i}": proba[:, i] for i in range(proba.shape[1])})
    pq.write_table(pa.table(columns), out)


def _mlflow(
    tmp: Path, model: Any, X: np.ndarray, names: list[str], source: Path, reps: int
) -> Timing | None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    warnings.filterwarnings("ignore", module=r"mlflow(\..*)?$")
    try:
        import mlflow.pyfunc
        import mlflow.sklearn
    except ImportError:
        return None
    path = tmp / "mlflow-model"
    shutil.rmtree(path, ignore_errors=True)
    mlflow.sklearn.save_model(model, str(path), input_example=pd.DataFrame(X[:5], columns=names))
    pyfunc = mlflow.pyfunc.load_model(str(path))
    out = tmp / "mlflow-preds.parquet"

    def run() -> None:
        frame = pd.read_parquet(source)
        with warnings.catch_warnings():  # "X has feature names, but ... fitted without"
            warnings.simplefilter("ignore")
            predictions = pyfunc.predict(frame)
        pd.DataFrame({"prediction": np.asarray(predictions)}).to_parquet(out)

    return _timed(run, reps)


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "predict_1m": bench_predict,
    "predict_1m_labels": bench_labels,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``batch.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
