"""Scale curves: how the cost of tracking, search and serving grows with the load, so that
a regression in complexity shows even when the machine is too busy for absolute figures.

1. ``writers_curve``: 1, 8 and 32 threads each logging metric batches into its own run of
   one SQLite store (``TrackingService.log_metrics``, one transaction per batch). Cost:
   CPU microseconds of this process per logged point, and wall-clock points per second.
2. ``search_curve``: the tracking suite's search (filter + order + up to 1,000 results)
   over 1,000, 10,000 and 100,000 runs (``--quick``: 1,000, 3,000 and 10,000). Cost: CPU
   ms per search (median) and wall-clock ms.
3. ``serving_curve``: one-row ``/invocations`` requests to ``mlcycle serve`` at
   concurrency 1, 8, 32 and 128. Cost: the server process's CPU time per request (read
   from ``/proc/PID/stat`` before and after), and requests per second.

Each curve prints every step's cost and its growth per step, normalised to a 10x step of
the load (``(cost_b / cost_a) ** (1 / log10(load_b / load_a))``): 1 means flat, 10 means
linear in the load. The result is the largest growth per 10x; its goal is the complexity
each path should have (search: at most linear in the runs; writers and serving: the cost
of one point or one request at most doubles per 10x more concurrency).
"""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import serving as serving_bench
from benchmarks import tracking as tracking_bench
from benchmarks._common import Result, cpu_ms, fmt, log, perf_counter, run_benches, temp_dir
from mlcycle.entities import MetricBatch

SUITE = "curves"
BENCHMARKS = ("writers_curve", "search_curve", "serving_curve")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sizes:
    writers: tuple[int, ...] = (1, 8, 32)
    points_per_writer_total: int = 640_000  # split between the writers of a step
    points_per_batch: int = 1_000
    search_runs: tuple[int, ...] = (1_000, 10_000, 100_000)
    concurrency: tuple[int, ...] = (1, 8, 32, 128)
    serving_seconds: float = 5.0


DEFAULT = Sizes()
QUICK = Sizes(
    points_per_writer_total=64_000,
    search_runs=(1_000, 3_000, 10_000),
    serving_seconds=2.0,
)


def growth_per_10x(loads: Sequence[float], costs: Sequence[float]) -> list[float]:
    """Each step's cost ratio, normalised to a 10x step of the load.

    >>> [round(g, 2) for g in growth_per_10x([1, 10, 100], [1.0, 2.0, 8.0])]
    [2.0, 4.0]
    """
    out = []
    for (la, ca), (lb, cb) in pairwise(zip(loads, costs, strict=True)):
        out.append((cb / ca) ** (1.0 / math.log10(lb / la)) if ca > 0 and cb > 0 else math.nan)
    return out


def _print_curve(
    label: str, unit: str, loads: Sequence[int], costs: Sequence[float], extra: Sequence[str]
) -> list[float]:
    growth = growth_per_10x(loads, costs)
    for i, (load, cost) in enumerate(zip(loads, costs, strict=True)):
        step = f"; x{fmt(growth[i - 1])} per 10x from {loads[i - 1]:,}" if i else ""
        log(f"    {label} {load:>7,}: {fmt(cost)} {unit}{step}; {extra[i]}")
    return growth


def _curve_result(
    name: str,
    what: str,
    loads: Sequence[int],
    costs: Sequence[float],
    growth: list[float],
    goal: float,
    details: dict[str, Any],
) -> Result:
    worst = max(growth)
    return Result(
        name=name,
        what=f"{what}; largest growth of the cost per 10x of the load",
        unit="x per 10x",
        value=worst,
        goal=goal,
        higher_is_better=False,
        mlflow_note="mlcycle only",
        details={"loads": list(loads), "costs": list(costs), "growth_per_10x": growth, **details},
    )


# -- 1. concurrent writers ------------------------------------------------------------------


def _writers_step(service: Any, exp_id: str, writers: int, sizes: Sizes) -> tuple[float, float]:
    """CPU microseconds per point and points per second with ``writers`` threads."""
    points = sizes.points_per_writer_total // writers
    batches = max(1, points // sizes.points_per_batch)
    n = sizes.points_per_batch
    runs = [service.create_run(exp_id, name=f"w{writers}-{i}").id for i in range(writers)]
    values = np.random.default_rng(writers).random(n)
    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def write(run_id: str) -> None:
        barrier.wait()
        try:
            for b in range(batches):
                steps = np.arange(b * n, (b + 1) * n, dtype=np.int64)
                batch = MetricBatch(key="loss", steps=steps, timestamps=steps, values=values)
                service.log_metrics(run_id, [batch])
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(r,)) for r in runs]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    started = perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    wall = perf_counter() - started
    cpu_s = time.process_time() - cpu
    if errors:
        raise errors[0]
    total = writers * batches * n
    for run_id in runs:  # every point arrived
        if service.get_metric_history(run_id, "loss").values.size != batches * n:
            raise AssertionError(f"run {run_id} lost points")
    return cpu_s / total * 1e6, total / wall


def bench_writers_curve(sizes: Sizes) -> Result:
    with temp_dir("curves-writers") as tmp:
        client = tracking_bench._mlcycle_client(tmp)
        try:
            service = tracking_bench._service(client)
            exp_id = service.get_or_create_experiment("curves").id
            _writers_step(service, exp_id, 1, sizes)  # warm-up
            measured = [_writers_step(service, exp_id, w, sizes) for w in sizes.writers]
        finally:
            client.close()
    costs = [m[0] for m in measured]
    growth = _print_curve(
        "writers",
        "CPU us/point",
        sizes.writers,
        costs,
        [f"{fmt(m[1])} points/s wall" for m in measured],
    )
    return _curve_result(
        "writers_curve",
        f"metric logging by {', '.join(map(str, sizes.writers))} concurrent writers "
        f"(batches of {sizes.points_per_batch:,} points, SQLite): CPU per point",
        sizes.writers,
        costs,
        growth,
        2.0,
        {"points_per_second": [m[1] for m in measured]},
    )


# -- 2. search over more runs ---------------------------------------------------------------


def bench_search_curve(sizes: Sizes) -> Result:
    cpu: list[float] = []
    wall: list[float] = []
    for n in sizes.search_runs:
        data = tracking_bench.make_runs(n, seed=5)
        _, expected = data.expected()
        with temp_dir("curves-search") as tmp:
            client = tracking_bench._mlcycle_client(tmp)
            try:
                tracking_bench.load_mlcycle(client, "curve", data, 50)
                search = tracking_bench._mlcycle_search(client, "curve")
                if search() != expected:
                    raise AssertionError(f"the search over {n:,} runs differs from NumPy's")
                cpu.append(cpu_ms(search, reps=9))
                wall.append(statistics.median(_wall_ms(search, 9)))
            finally:
                client.close()
    growth = _print_curve(
        "search over runs",
        "CPU ms",
        sizes.search_runs,
        cpu,
        [f"{fmt(w)} ms wall" for w in wall],
    )
    return _curve_result(
        "search_curve",
        f"search_runs ({tracking_bench.FILTER!r}, up to {tracking_bench.MAX_RESULTS:,}) over "
        f"{', '.join(f'{n:,}' for n in sizes.search_runs)} runs: CPU per search",
        sizes.search_runs,
        cpu,
        growth,
        10.0,
        {"wall_ms": wall},
    )


def _wall_ms(fn: Callable[[], object], reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = perf_counter()
        fn()
        out.append((perf_counter() - t0) * 1000.0)
    return out


# -- 3. serving at more concurrency ---------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def bench_serving_curve(sizes: Sizes) -> Result:
    import mlcycle

    with temp_dir("curves-serving") as work:
        model, X = serving_bench._fit()
        import pandas as pd

        example = pd.DataFrame(X[:5], columns=serving_bench.COLUMNS)
        mlcycle.models.save(model, work / "model", input_example=example)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
        env["MLCYCLE_TRACKING_URI"] = f"sqlite:///{work / 'mlcycle.db'}"
        env["MLCYCLE_ARTIFACT_URI"] = str(work / "artifacts")
        body = serving_bench._split_body(X[:1])
        measured = []
        with serving_bench._server_process(
            [str(serving_bench.BIN / "mlcycle"), "serve", str(work / "model")],
            work / "serve.log",
            "/ping",
            env,
        ) as (url, pid):
            invocations = f"{url}/invocations"
            serving_bench._load(invocations, body, 1.0, work)  # warm-up
            for concurrency in sizes.concurrency:
                before = _cpu_seconds(pid)
                load = serving_bench._load(
                    invocations, body, sizes.serving_seconds, work, concurrency=concurrency
                )
                used = _cpu_seconds(pid) - before
                if load["failed"]:
                    raise AssertionError(f"{int(load['failed'])} requests failed: {load}")
                measured.append((used / max(load["requests"], 1.0) * 1e6, load))
    costs = [m[0] for m in measured]
    tool = "wrk" if serving_bench._wrk_available() else "Python load generator"
    growth = _print_curve(
        "serving at concurrency",
        "server CPU us/request",
        sizes.concurrency,
        costs,
        [
            f"{fmt(m[1]['rps'])} req/s, p50 {fmt(m[1]['p50_ms'])} ms, p99 {fmt(m[1]['p99_ms'])} ms"
            for m in measured
        ],
    )
    return _curve_result(
        "serving_curve",
        f"one-row /invocations at concurrency {', '.join(map(str, sizes.concurrency))} "
        f"({tool}): server CPU per request",
        sizes.concurrency,
        costs,
        growth,
        2.0,
        {"tool": tool, "loads": [m[1] for m in measured]},
    )


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "writers_curve": bench_writers_curve,
    "search_curve": bench_search_curve,
    "serving_curve": bench_serving_curve,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each curve and a summary table; write ``curves.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
