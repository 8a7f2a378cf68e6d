"""MLflow compatibility benchmarks: the unmodified ``mlflow`` client against ``mlcycle server``
(its MLflow REST API) versus the same client against ``mlflow server``, same data, same run.

1. ``search``: ``MlflowClient.search_runs`` over 5,000 runs (10 params, 10 metrics; the
   tracking suite's data, filter and order), both answers checked against NumPy's.
2. ``log_batch``: ingest of a 100,000-point metric with ``MlflowClient.log_batch``, 1,000
   metrics per call (MLflow's limit), timed until the last call returns (committed).
3. ``history``: ``MlflowClient.get_metric_history`` of that 100,000-point metric, checked
   point by point against what was logged.

Goals are ratios to MLflow measured in the same run: search and history at least 10x
faster, log_batch at least 5x; each result's goal is MLflow's figure divided (or, for
rates, multiplied) by that ratio. Both servers are subprocesses on 127.0.0.1 with SQLite
stores in a temporary directory, started and stopped here (``benchmarks/server.py``'s
``Server``); the search stores are filled before the servers start. The client's own work
(protobuf parsing, entity building) is in both figures alike.
"""

from __future__ import annotations

import gc
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from benchmarks._common import (
    Result,
    SuiteRun,
    Timing,
    fmt,
    load_average,
    log,
    perf_counter,
    repeat,
    temp_dir,
)
from benchmarks.server import SEARCH_EXPERIMENT, Server, _mlflow_client, prepare_search
from benchmarks.server import Sizes as ServerSizes
from benchmarks.tracking import (
    FILTER,
    MAX_RESULTS,
    ORDER_BY,
    _check,
    _mlflow_log_series,
    make_series,
)

SUITE = "mlflow"
BENCHMARKS = ("search", "log_batch", "history")
SEARCH_GOAL = 10.0
HISTORY_GOAL = 10.0
LOG_BATCH_GOAL = 5.0


@dataclass(frozen=True)
class Sizes:
    search_runs: int = 5_000
    search_api_runs: int = 100
    series_points: int = 100_000


DEFAULT = Sizes()
QUICK = Sizes(search_runs=1_000, search_api_runs=20, series_points=10_000)


@dataclass
class Env:
    sizes: Sizes
    servers: dict[str, Server]
    search: dict[str, Any] = field(default_factory=dict)
    #: per system: run ID of the logged series and the seconds log_batch took
    series: dict[str, tuple[str, float]] = field(default_factory=dict)


def _clients(env: Env) -> dict[str, Any]:
    return {system: _mlflow_client(server.url) for system, server in env.servers.items()}


def _raw(url: str, method: str, path: str, body: dict[str, Any], *, fast: bool) -> Timing:
    """Diagnostic: the same request(s) over plain HTTP, reading but not parsing the answer
    (following page tokens as the client does), to separate the servers' share from the
    mlflow client's own JSON-to-protobuf parsing, which both figures include."""

    def call(client: httpx.Client) -> None:
        token = None
        while True:
            params = {**body, **({"page_token": token} if token else {})}
            if method == "GET":
                response = client.get(f"/api/2.0/mlflow{path}", params=params)
            else:
                response = client.post(f"/api/2.0/mlflow{path}", json=params)
            response.raise_for_status()
            token = orjson.loads(response.content).get("next_page_token")
            if not token:
                return

    with httpx.Client(base_url=url, timeout=600) as client:
        return repeat(
            partial(call, client),
            warmup=1,
            min_reps=5 if fast else 2,
            max_reps=20 if fast else 4,
            budget_s=3.0 if fast else 6.0,
        )


# -- 1. search ----------------------------------------------------------------------------


def bench_search(env: Env) -> Result:
    info = env.search
    clients = _clients(env)
    timings: dict[str, Timing] = {}
    answers: dict[str, list[str]] = {}
    checks: dict[str, bool] = {}
    raw: dict[str, Timing] = {}
    for system, client in clients.items():
        found = client.get_experiment_by_name(SEARCH_EXPERIMENT)
        assert found is not None, f"{system} has no experiment {SEARCH_EXPERIMENT!r}"
        experiment_id = found.experiment_id

        def search(c: Any = client, e: str = experiment_id) -> list[str]:
            runs = c.search_runs([e], FILTER, order_by=[ORDER_BY], max_results=MAX_RESULTS)
            return [r.info.run_name for r in runs]

        answers[system] = search()
        checks[system] = _check(system, answers[system], info["expected_count"], info["expected"])
        fast = system == "mlcycle"
        timings[system] = repeat(
            search,
            warmup=2 if fast else 1,
            min_reps=5 if fast else 3,
            max_reps=20 if fast else 7,
            budget_s=4.0 if fast else 8.0,
        )
        body = {
            "experiment_ids": [experiment_id],
            "filter": FILTER,
            "order_by": [ORDER_BY],
            "max_results": MAX_RESULTS,
        }
        raw[system] = _raw(env.servers[system].url, "POST", "/runs/search", body, fast=fast)
        log(
            f"    {system}: {timings[system].text()}; diagnostic: the HTTP request alone "
            f"(no parsing by the mlflow client) median {fmt(raw[system].median)} ms"
        )
    log(
        f"    diagnostic: HTTP request alone, MLflow / mlcycle = "
        f"{fmt(raw['MLflow'].median / raw['mlcycle'].median)}x; the rest of each figure is "
        "the mlflow client parsing the answer and building its Run objects"
    )
    agree = answers["mlcycle"] == answers["MLflow"]
    same = "yes" if agree else "NO"
    log(f"    cross-check mlcycle vs MLflow: same runs in the same order: {same}")
    mc, mf = timings["mlcycle"].median, timings["MLflow"].median
    return Result(
        name="search",
        what=(
            f"MlflowClient.search_runs over HTTP, {info['runs']:,} runs: {FILTER!r}, order "
            f"{ORDER_BY!r}, up to {MAX_RESULTS:,} ({len(info['expected']):,} match); median; "
            f"goal: {SEARCH_GOAL:g}x faster than MLflow's server"
        ),
        unit="ms",
        value=mc,
        goal=mf / SEARCH_GOAL,
        higher_is_better=False,
        mlflow=mf,
        mlflow_note=f"same client against `mlflow server`; min {fmt(timings['MLflow'].min)} ms",
        details={
            "runs": info["runs"],
            "matching_runs": info["expected_count"],
            "mlcycle": timings["mlcycle"].summary(),
            "mlflow_timing": timings["MLflow"].summary(),
            "mlcycle_matches_numpy": checks["mlcycle"],
            "mlflow_matches_numpy": checks["MLflow"],
            "mlcycle_matches_mlflow": agree,
            "http_only_ms": {k: v.summary() for k, v in raw.items()},
        },
    )


# -- 2. log_batch -------------------------------------------------------------------------


def _log_series(env: Env) -> None:
    """Log the series into a new run on each server (once), timing log_batch."""
    if env.series:
        return
    n = env.sizes.series_points
    steps, timestamps, values = make_series(n, seed=4)
    for system, client in _clients(env).items():
        experiment_id = client.create_experiment(f"bench-log-batch-{system}")
        run_id = client.create_run(experiment_id).info.run_id
        gc.collect()
        t0 = perf_counter()
        _mlflow_log_series(
            client, run_id, "loss", steps.tolist(), timestamps.tolist(), values.tolist()
        )
        seconds = perf_counter() - t0
        env.series[system] = (run_id, seconds)
        log(f"    {system}: {n:,} points with log_batch (1,000 per call) in {seconds:.2f} s")


def _raw_log_batch(env: Env, system: str) -> float:
    """Diagnostic: the same batches POSTed as ready-made JSON (what the client sends) into a
    new run, so the mlflow client's own building and encoding of the requests is left out.
    Returns the seconds."""
    n = env.sizes.series_points
    steps, timestamps, values = make_series(n, seed=4)
    client = _mlflow_client(env.servers[system].url)
    run_id = client.create_run(client.create_experiment(f"bench-raw-{system}")).info.run_id
    bodies = [
        orjson.dumps(
            {
                "run_id": run_id,
                "metrics": [
                    {"key": "loss", "value": v, "timestamp": t, "step": s}
                    for s, t, v in zip(
                        steps[i : i + 1000].tolist(),
                        timestamps[i : i + 1000].tolist(),
                        values[i : i + 1000].tolist(),
                        strict=True,
                    )
                ],
            }
        )
        for i in range(0, n, 1000)
    ]
    headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=env.servers[system].url, timeout=600) as http:
        t0 = perf_counter()
        for body in bodies:
            http.post("/api/2.0/mlflow/runs/log-batch", content=body, headers=headers)
        return perf_counter() - t0


def bench_log_batch(env: Env) -> Result:
    _log_series(env)
    n = env.sizes.series_points
    rates = {system: n / seconds for system, (_, seconds) in env.series.items()}
    raw = {system: n / _raw_log_batch(env, system) for system in env.servers}
    log(
        "    diagnostic: the same batches POSTed as ready-made JSON (no work by the mlflow "
        f"client): mlcycle {fmt(raw['mlcycle'])} points/s, MLflow {fmt(raw['MLflow'])} "
        f"points/s ({fmt(raw['mlcycle'] / raw['MLflow'])}x)"
    )
    return Result(
        name="log_batch",
        what=(
            f"MlflowClient.log_batch over HTTP, {n:,} points of one metric, 1,000 per call, "
            f"until the last call returns; goal: {LOG_BATCH_GOAL:g}x MLflow's server"
        ),
        unit="points/s",
        value=rates["mlcycle"],
        goal=rates["MLflow"] * LOG_BATCH_GOAL,
        higher_is_better=True,
        mlflow=rates["MLflow"],
        mlflow_note="same client against `mlflow server`",
        details={
            "points": n,
            "calls": -(-n // 1000),
            "seconds": {system: seconds for system, (_, seconds) in env.series.items()},
            "http_only_points_per_s": raw,
        },
    )


# -- 3. history ---------------------------------------------------------------------------


def bench_history(env: Env) -> Result:
    _log_series(env)
    n = env.sizes.series_points
    steps, timestamps, values = make_series(n, seed=4)
    timings: dict[str, Timing] = {}
    exact: dict[str, bool] = {}
    raw: dict[str, Timing] = {}
    for system, client in _clients(env).items():
        run_id = env.series[system][0]

        def history(c: Any = client, r: str = run_id) -> list[Any]:
            return list(c.get_metric_history(r, "loss"))

        t0 = perf_counter()
        points = history()
        first_ms = (perf_counter() - t0) * 1000
        ordered = sorted(points, key=lambda m: m.step)
        exact[system] = (
            len(ordered) == n
            and np.array_equal([m.step for m in ordered], steps)
            and np.array_equal([m.timestamp for m in ordered], timestamps)
            and np.array_equal([m.value for m in ordered], values)
        )
        fast = system == "mlcycle"
        more = repeat(
            history,
            warmup=1 if fast else 0,
            min_reps=5 if fast else 2,
            max_reps=20 if fast else 4,
            budget_s=4.0 if fast else 8.0,
        )
        timings[system] = Timing([first_ms, *more.samples_ms]) if not fast else more
        params = {"run_id": run_id, "metric_key": "loss", "max_results": 25_000}
        raw[system] = _raw(
            env.servers[system].url, "GET", "/metrics/get-history", params, fast=fast
        )
        log(
            f"    {system}: {timings[system].text()}; the {n:,} points read back exactly: "
            f"{'yes' if exact[system] else 'NO'}; diagnostic: the HTTP requests alone (no "
            f"parsing by the mlflow client) median {fmt(raw[system].median)} ms"
        )
    log(
        f"    diagnostic: HTTP requests alone, MLflow / mlcycle = "
        f"{fmt(raw['MLflow'].median / raw['mlcycle'].median)}x; the rest of each figure is "
        "the mlflow client parsing the JSON into protobuf and Metric objects"
    )
    mc, mf = timings["mlcycle"].median, timings["MLflow"].median
    return Result(
        name="history",
        what=(
            f"MlflowClient.get_metric_history over HTTP of a {n:,}-point metric; median; "
            f"goal: {HISTORY_GOAL:g}x faster than MLflow's server"
        ),
        unit="ms",
        value=mc,
        goal=mf / HISTORY_GOAL,
        higher_is_better=False,
        mlflow=mf,
        mlflow_note=f"same client against `mlflow server`; min {fmt(timings['MLflow'].min)} ms",
        details={
            "points": n,
            "mlcycle": timings["mlcycle"].summary(),
            "mlflow_timing": timings["MLflow"].summary(),
            "exact": exact,
            "http_only_ms": {k: v.summary() for k, v in raw.items()},
        },
    )


# -- the suite ----------------------------------------------------------------------------

_BENCHES = {"search": bench_search, "log_batch": bench_log_batch, "history": bench_history}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result, its ratio to MLflow and a summary; write
    ``mlflow.json``. Returns False when a benchmark raised."""
    sizes = QUICK if quick else DEFAULT
    suite = SuiteRun(SUITE, quick=quick)
    selected = [name for name in BENCHMARKS if only is None or name in only]
    with temp_dir("mlflow-compat") as tmp, ExitStack() as stack:
        log(f"\n-- setup (load average {load_average()})")
        try:
            search: dict[str, Any] = {}
            if "search" in selected:
                search = prepare_search(
                    ServerSizes(
                        search_runs=sizes.search_runs, search_api_runs=sizes.search_api_runs
                    ),
                    tmp / "mlcycle",
                    tmp / "mlflow",
                )
            servers: dict[str, Server] = {}
            for system, sub in (("mlcycle", "mlcycle"), ("MLflow", "mlflow")):
                server = Server(system, tmp / sub)
                stack.callback(server.stop)
                seconds = server.start()
                servers[system] = server
                log(f"    {system} server on {server.url} answered /health after {seconds:.1f} s")
            env = Env(sizes, servers, search)
        except Exception:
            suite.fail("setup", traceback.format_exc())
            return suite.finish(out_dir)
        for name in selected:
            suite.record(name, partial(_BENCHES[name], env))
    for result in suite.results:
        if result.ratio is not None:
            log(f"ratio {result.name}: mlcycle is {result.ratio_text()} than MLflow's server")
    return suite.finish(out_dir)
