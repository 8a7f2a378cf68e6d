"""Batch prediction against its floor (issue 21, goal 3).

``mlcycle.batch.predict`` of a LogisticRegression (trained on ``make_classification(10_000,
20 features)``) over 10,000,000 rows x 20 float features stored in Parquet (1,000,000 with
``--quick``), Parquet in, Parquet out, end to end (loading the model from its folder
included), as a multiple of **the floor**: the three parts no implementation can skip,
each timed alone in the same run and summed:

* reading the input: the faster of ``pq.read_table`` (multi-threaded) and a streamed read
  (``ParquetFile.iter_batches``, batches dropped);
* the model's own ``predict`` (+ ``predict_proba`` for the default output) on the rows
  already in memory as one NumPy array;
* writing the output table (labels + probabilities) with ``pq.write_table``: the faster of
  pyarrow's defaults and mlcycle's settings (no dictionary for float columns).

Goal: within 1.5x of the floor, with the default (thread) executor and with the process
executor, both with 2 workers.

1. ``predict_floor``: thread executor, labels + probabilities.
2. ``predict_floor_process``: process executor (workers read their own row groups).
3. ``predict_labels``: labels only (``probabilities=False``) against its own floor, with
   MLflow's way beside it (``pd.read_parquet`` -> pyfunc ``predict`` ->
   ``DataFrame.to_parquet``, the model loaded beforehand) when MLflow is installed.

Printed beside them: CPU time of every part (this process and its worker processes;
the machine is shared, CPU time is disturbed less than wall time), the overhead above the
floor split by stage (CPU time per stage measured inside one job with per-thread
timers), the process executor's fixed cost (its workers start and import the model's
libraries: a job of two small chunks), and one ``mlcycle predict`` command run.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import mlcycle
import mlcycle.batch
from benchmarks._common import Result, fmt, load_average, log, run_benches, temp_dir

SUITE = "batch"
BENCHMARKS = ("predict_floor", "predict_floor_process", "predict_labels")
FEATURES = 20
GOAL = 1.5
_GENERATE_ROWS = 1_000_000  # rows generated (and written) at a time


@dataclass(frozen=True)
class Sizes:
    rows: int = 10_000_000
    reps: int = 3
    workers: int = 2


DEFAULT = Sizes()
QUICK = Sizes(rows=1_000_000, reps=2)


@dataclass
class Cost:
    """Repeated runs of one operation: wall-clock and CPU milliseconds (CPU of this
    process and of the worker processes it waited for)."""

    wall_ms: list[float]
    cpu_ms: list[float]

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)

    def text(self) -> str:
        return (
            f"wall {fmt(self.wall)} ms (min {fmt(min(self.wall_ms))}), "
            f"CPU {fmt(self.cpu)} ms, {len(self.wall_ms)} reps"
        )

    def summary(self) -> dict[str, Any]:
        return {"wall_ms": self.wall_ms, "cpu_ms": self.cpu_ms}


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _cost(fn: Callable[[], object], reps: int, warmup: int = 1) -> Cost:
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(reps):
        cpu, wall = _cpu_seconds(), time.perf_counter()
        fn()
        walls.append((time.perf_counter() - wall) * 1000.0)
        cpus.append((_cpu_seconds() - cpu) * 1000.0)
    return Cost(walls, cpus)


def _faster(*costs: Cost) -> Cost:
    return min(costs, key=lambda c: c.wall)


@dataclass
class _Figures:
    sizes: Sizes
    row_group_rows: int
    input_mb: float
    read_table: Cost
    read_streamed: Cost
    predict: Cost
    proba: Cost
    write_default: Cost
    write_plain: Cost
    write_labels: Cost
    thread: Cost
    process: Cost
    labels: Cost
    process_fixed: Cost
    mlflow: Cost | None
    cli_ms: float | None
    stages: dict[str, float]
    stages_total_ms: float
    loads: list[list[float]] = field(default_factory=list)

    @property
    def read(self) -> Cost:
        return _faster(self.read_table, self.read_streamed)

    @property
    def write(self) -> Cost:
        return _faster(self.write_default, self.write_plain)

    def floor(self, *, labels_only: bool = False) -> float:
        if labels_only:
            return self.read.wall + self.predict.wall + self.write_labels.wall
        return self.read.wall + self.proba.wall + self.write.wall

    def floor_cpu(self, *, labels_only: bool = False) -> float:
        if labels_only:
            return self.read.cpu + self.predict.cpu + self.write_labels.cpu
        return self.read.cpu + self.proba.cpu + self.write.cpu


_measured: dict[Sizes, _Figures] = {}


def _model() -> Any:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X_train, y_train = make_classification(10_000, FEATURES, random_state=0)
    return LogisticRegression().fit(X_train, y_train)


def _write_input(path: Path, rows: int, names: list[str]) -> np.ndarray:
    """The input rows, written to ``path`` with pyarrow's defaults (row groups of 1 Mi
    rows) a million at a time; returns them as one array for the in-memory floor."""
    from sklearn.datasets import make_classification

    X = np.empty((rows, FEATURES))
    schema = pa.schema([(n, pa.float64()) for n in names])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, _GENERATE_ROWS):
            part, _ = make_classification(
                min(_GENERATE_ROWS, rows - start), FEATURES, random_state=1 + start
            )
            X[start : start + len(part)] = part
            writer.write_table(pa.table({n: part[:, i] for i, n in enumerate(names)}))
    return X


def _streamed_read(path: Path) -> int:
    rows = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=100_000):
        rows += batch.num_rows
    return rows


def _measure(sizes: Sizes) -> _Figures:
    """Every timing of the suite, taken once for all its results."""
    if sizes in _measured:
        return _measured[sizes]
    names = [f"f{i}" for i in range(FEATURES)]
    model = _model()
    loads = [load_average()]
    with temp_dir("batch") as tmp:
        source = tmp / "input.parquet"
        X = _write_input(source, sizes.rows, names)
        meta = pq.ParquetFile(source).metadata
        model_dir = tmp / "model"
        mlcycle.models.save(model, model_dir, input_example=pd.DataFrame(X[:5], columns=names))
        out = tmp / "preds.parquet"

        def ours(executor: str = "thread", probabilities: bool | None = None) -> None:
            mlcycle.batch.predict(
                model_dir,
                source,
                out,
                workers=sizes.workers,
                executor=executor,
                probabilities=probabilities,
            )

        labels = model.predict(X)
        proba = model.predict_proba(X)
        output = pa.table(
            {"prediction": labels, **{f"proba_{i}": c for i, c in enumerate(proba.T)}}
        )
        del proba
        log(f"    input ready ({sizes.rows:,} rows); load average {load_average()}")

        read_table = _cost(lambda: pq.read_table(source), sizes.reps)
        read_streamed = _cost(lambda: _streamed_read(source), sizes.reps)
        predict = _cost(lambda: model.predict(X), sizes.reps)
        proba_cost = _cost(lambda: (model.predict(X), model.predict_proba(X)), sizes.reps)
        w = tmp / "w.parquet"
        write_default = _cost(lambda: pq.write_table(output, w), sizes.reps)
        write_plain = _cost(
            lambda: pq.write_table(output, w, use_dictionary=["prediction"]), sizes.reps
        )
        write_labels = _cost(lambda: pq.write_table(output.select(["prediction"]), w), sizes.reps)
        loads.append(load_average())

        thread = _cost(ours, sizes.reps)
        _check(out, labels, model, X)
        process = _cost(lambda: ours("process"), sizes.reps, warmup=0)
        _check(out, labels, model, X)
        labels_only = _cost(lambda: ours(probabilities=False), sizes.reps)
        loads.append(load_average())
        stages, stages_total = _stages(ours)
        process_fixed = _process_fixed_cost(tmp, model_dir, X, names)
        mlflow = _mlflow(tmp, model, X, names, source, sizes.reps)
        cli_ms = _cli_once(model_dir, source, out, sizes.workers)
        loads.append(load_average())
        figures = _Figures(
            sizes=sizes,
            row_group_rows=meta.row_group(0).num_rows,
            input_mb=source.stat().st_size / 1e6,
            read_table=read_table,
            read_streamed=read_streamed,
            predict=predict,
            proba=proba_cost,
            write_default=write_default,
            write_plain=write_plain,
            write_labels=write_labels,
            thread=thread,
            process=process,
            labels=labels_only,
            process_fixed=process_fixed,
            mlflow=mlflow,
            cli_ms=cli_ms,
            stages=stages,
            stages_total_ms=stages_total,
            loads=loads,
        )
    _report(figures)
    _measured[sizes] = figures
    return figures


def _check(out: Path, labels: np.ndarray, model: Any, X: np.ndarray) -> None:
    written = pq.read_table(out)
    if not np.array_equal(written.column("prediction").to_numpy(), labels):
        raise AssertionError("mlcycle's batch predictions differ from model.predict")
    head = min(len(X), 100_000)
    if not np.allclose(
        written.column("proba_1").to_numpy()[:head], model.predict_proba(X[:head])[:, 1]
    ):
        raise AssertionError("mlcycle's probabilities differ from model.predict_proba")


def _process_fixed_cost(tmp: Path, model_dir: Path, X: np.ndarray, names: list[str]) -> Cost:
    """The process executor on two small chunks (one per worker): starting its workers and
    importing the model's libraries there, which every job with that executor pays once."""
    small = tmp / "small.parquet"
    rows = pa.table({n: X[:1000, i] for i, n in enumerate(names)})
    pq.write_table(rows, small, row_group_size=500)
    return _cost(
        lambda: mlcycle.batch.predict(
            model_dir,
            small,
            tmp / "small-preds.parquet",
            workers=2,
            chunk_rows=500,
            executor="process",
        ),
        1,
        warmup=0,
    )


# -- where the time goes inside one job ----------------------------------------------------


class _StageClock:
    """CPU time (``time.thread_time``, so per thread, whichever thread runs the call)
    summed per stage of a job."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, ms: float) -> None:
        with self._lock:
            self.ms[stage] = self.ms.get(stage, 0.0) + ms

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(stage, (time.thread_time() - started) * 1000.0)

        return timed


@contextmanager
def _patched(target: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


def _stages(ours: Callable[[], None]) -> tuple[dict[str, float], float]:
    """One thread-executor job with a clock around each stage: CPU ms per stage, and the
    job's CPU ms in all. Reading is not clocked directly (Arrow decodes in its own threads,
    which no per-thread clock of ours sees): it is in the rest, with the threads' and
    queues' work, loading the model and the bookkeeping."""
    from mlcycle.batch import job, parts, predictor

    clock = _StageClock()
    original_methods = predictor.ChunkPredictor._array_methods

    def array_methods(self: Any) -> tuple[Any, Any]:
        predict, proba = original_methods(self)
        return clock.wrap("predict", predict), clock.wrap("predict", proba)

    patches = [
        (predictor, "_matrix", clock.wrap("to array", predictor._matrix)),
        (predictor.ChunkPredictor, "_array_methods", array_methods),
        (
            predictor.ChunkPredictor,
            "_output",
            clock.wrap("output", predictor.ChunkPredictor._output),
        ),
        (parts.PartStore, "write", clock.wrap("resume parts", parts.PartStore.write)),
        (job._Assembler, "write", clock.wrap("write", job._Assembler.write)),
    ]
    with _nested(patches):
        cpu = _cpu_seconds()
        ours()
        total = (_cpu_seconds() - cpu) * 1000.0
    return clock.ms, total


@contextmanager
def _nested(patches: list[tuple[Any, str, Any]]) -> Iterator[None]:
    if not patches:
        yield
        return
    target, name, value = patches[0]
    with _patched(target, name, value), _nested(patches[1:]):
        yield


# -- report ---------------------------------------------------------------------------------


def _report(f: _Figures) -> None:
    s = f.sizes
    floor, floor_cpu = f.floor(), f.floor_cpu()
    log(
        f"    rows: {s.rows:,} x {FEATURES} float features ({fmt(f.input_mb)} MB of Parquet, "
        f"row groups of {f.row_group_rows:,} rows); {s.workers} workers; "
        f"load average {' / '.join(str(x) for x in f.loads)}"
    )
    log(f"    floor: read, pq.read_table (threads):     {f.read_table.text()}")
    log(f"    floor: read, streamed (iter_batches):     {f.read_streamed.text()}")
    log(f"    floor: model.predict on the array:        {f.predict.text()}")
    log(f"    floor: predict + predict_proba:           {f.proba.text()}")
    log(f"    floor: write, pq.write_table defaults:    {f.write_default.text()}")
    log(f"    floor: write, no dictionary for floats:   {f.write_plain.text()}")
    log(f"    floor: write labels only:                 {f.write_labels.text()}")
    log(
        f"    floor = read {fmt(f.read.wall)} + predict/proba {fmt(f.proba.wall)} + write "
        f"{fmt(f.write.wall)} = {fmt(floor)} ms wall, {fmt(floor_cpu)} ms CPU"
    )
    for label, cost, base, base_cpu in (
        ("mlcycle, threads", f.thread, floor, floor_cpu),
        ("mlcycle, processes", f.process, floor, floor_cpu),
        (
            "mlcycle, labels only",
            f.labels,
            f.floor(labels_only=True),
            f.floor_cpu(labels_only=True),
        ),
    ):
        ratio = cost.wall / base
        log(
            f"    {label + ':':22s} {cost.text()}: {ratio:.2f}x the floor "
            f"(goal <= {GOAL}x: {'MET' if ratio <= GOAL else 'MISSED'}); "
            f"overhead {fmt(cost.wall - base)} ms wall, CPU {cost.cpu / base_cpu:.2f}x "
            f"the floor's ({fmt(cost.cpu - base_cpu)} ms)"
        )
    log(
        f"    process executor's fixed cost (2 chunks of 500 rows: start 2 workers, import): "
        f"{f.process_fixed.text()}"
    )
    if f.mlflow is not None:
        log(
            f"    MLflow (read_parquet, pyfunc predict, to_parquet), labels only: "
            f"{f.mlflow.text()}: {f.mlflow.wall / f.floor(labels_only=True):.2f}x the floor"
        )
    if f.cli_ms is not None:
        log(
            f"    `mlcycle predict` command, threads, one run (interpreter start included): "
            f"{fmt(f.cli_ms)} ms"
        )
    stages = dict(f.stages)
    parts = ", ".join(f"{k} {fmt(v)}" for k, v in stages.items())
    other = f.stages_total_ms - sum(stages.values())
    log(
        f"    where the CPU goes in one thread job ({fmt(f.stages_total_ms)} ms): {parts}, "
        f"reading and the rest (Arrow's decoding threads, our threads, model load) "
        f"{fmt(other)} ms; the floor's parts alone: read {fmt(f.read.cpu)}, predict + proba "
        f"{fmt(f.proba.cpu)}, write {fmt(f.write.cpu)} ms CPU"
    )


def _details(f: _Figures) -> dict[str, Any]:
    return {
        "rows": f.sizes.rows,
        "workers": f.sizes.workers,
        "row_group_rows": f.row_group_rows,
        "input_mb": f.input_mb,
        "floor_ms": f.floor(),
        "floor_cpu_ms": f.floor_cpu(),
        "floor_labels_ms": f.floor(labels_only=True),
        "read_table": f.read_table.summary(),
        "read_streamed": f.read_streamed.summary(),
        "predict": f.predict.summary(),
        "predict_and_proba": f.proba.summary(),
        "write_default": f.write_default.summary(),
        "write_plain": f.write_plain.summary(),
        "write_labels": f.write_labels.summary(),
        "mlcycle_threads": f.thread.summary(),
        "mlcycle_processes": f.process.summary(),
        "mlcycle_labels_only": f.labels.summary(),
        "process_fixed": f.process_fixed.summary(),
        "mlflow_labels_only": None if f.mlflow is None else f.mlflow.summary(),
        "cli_ms": f.cli_ms,
        "stage_cpu_ms": f.stages,
        "stage_total_cpu_ms": f.stages_total_ms,
        "load_averages": f.loads,
    }


def bench_threads(sizes: Sizes) -> Result:
    f = _measure(sizes)
    return Result(
        name="predict_floor",
        what=f"mlcycle.batch.predict, {sizes.rows:,} rows x {FEATURES} features, Parquet to "
        f"Parquet, labels + probabilities, thread executor x{sizes.workers}, as a multiple "
        "of the floor (read alone + predict/predict_proba alone + write alone)",
        unit="x",
        value=f.thread.wall / f.floor(),
        goal=GOAL,
        higher_is_better=False,
        mlflow_note="MLflow's pyfunc writes labels only: see predict_labels",
        details=_details(f),
    )


def bench_processes(sizes: Sizes) -> Result:
    f = _measure(sizes)
    return Result(
        name="predict_floor_process",
        what=f"the same with the process executor x{sizes.workers} (workers read their own "
        "row groups; their start-up included)",
        unit="x",
        value=f.process.wall / f.floor(),
        goal=GOAL,
        higher_is_better=False,
        mlflow_note="see predict_labels",
        details=_details(f),
    )


def bench_labels(sizes: Sizes) -> Result:
    f = _measure(sizes)
    base = f.floor(labels_only=True)
    return Result(
        name="predict_labels",
        what="labels only (probabilities=False), threads, as a multiple of its floor (read + "
        "predict + write labels); MLflow: pd.read_parquet + pyfunc predict + to_parquet",
        unit="x",
        value=f.labels.wall / base,
        goal=GOAL,
        higher_is_better=False,
        mlflow=None if f.mlflow is None else f.mlflow.wall / base,
        mlflow_note="" if f.mlflow is not None else "MLflow is not installed",
        details=_details(f),
    )


def _cli_once(model_dir: Path, source: Path, out: Path, workers: int) -> float | None:
    script = Path(sys.executable).parent / "mlcycle"
    if not script.exists():
        return None
    command = [str(script), "predict", str(model_dir)]
    command += ["-i", str(source), "-o", str(out), "--workers", str(workers), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log(f"    `mlcycle predict` failed: {done.stderr.strip()[-300:]}")
        return None
    return (time.perf_counter() - started) * 1000.0


def _mlflow(
    tmp: Path, model: Any, X: np.ndarray, names: list[str], source: Path, reps: int
) -> Cost | None:
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

    return _cost(run, reps)


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "predict_floor": bench_threads,
    "predict_floor_process": bench_processes,
    "predict_labels": bench_labels,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``batch.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
