"""Server benchmarks: the mlcycle tracking server against ``mlflow server``, both on SQLite.

1. ``log_metric``: per-call ``run.log_metric`` through a remote client (``mlcycle.Client``
   with an ``http://`` tracking URI), timed until ``flush()`` returns, i.e. until the
   server has committed every point. MLflow: per-call ``MlflowClient.log_metric`` against
   its server, bounded by calls and seconds (each call is one HTTP request).
2. ``search``: ``search_runs`` over HTTP on the tracking suite's data (5,000 runs, 10
   params, 10 metrics; same filter, order and page size), through each system's Python
   client; both answers are checked against NumPy's and against each other.
3. ``history``: ``get_metric_history`` over HTTP of a 100,000-point metric, logged through
   each client (mlcycle: per-call ``log_metric``; MLflow: ``log_batch``, 1,000 per call).
4. ``start``: from ``Popen`` of the server command to the first 200 on ``/health``, each
   start on a new, empty store (so it includes creating and migrating it).

Each server is a subprocess on a free 127.0.0.1 port with its own SQLite store in a
temporary directory (removed afterwards) and its log in a file there. The search stores
are filled before the servers start, the same way as in ``benchmarks/tracking.py`` (the
first runs through each system's API, the rest by bulk INSERTs checked against the API).
``log_metric``, ``search`` and ``history`` share one server per system; ``start`` runs
after those servers have stopped. Every server is stopped (SIGTERM to its process group,
SIGKILL after 15 s) in a ``finally``, and at exit if anything slipped through.

mlcycle's server logs each request with its server-side latency; the suite reads that log
to split each figure into server time and client + transport time (MLflow's log has no
latency).
"""

from __future__ import annotations

import atexit
import gc
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np

import mlcycle
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
from benchmarks.tracking import (
    FILTER,
    MAX_RESULTS,
    ORDER_BY,
    Loaded,
    _check,
    _loss_values,
    _mlcycle_client,
    _mlflow,
    _mlflow_log_series,
    _NoopRun,
    check_mlcycle_rows,
    check_mlflow_rows,
    load_mlcycle,
    load_mlflow,
    make_runs,
    make_series,
)

SUITE = "server"
BENCHMARKS = ("log_metric", "search", "history", "start")

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent  # the venv's bin: mlcycle and mlflow live next to python
START_TIMEOUT_S = 90.0  # MLflow's first start on a new store takes 10-30 s here
STOP_TIMEOUT_S = 15.0
SEARCH_EXPERIMENT = "bench-search"


@dataclass(frozen=True)
class Sizes:
    log_points: int = 1_000_000
    log_reps: int = 3
    mlflow_calls: int = 2_000
    mlflow_budget_s: float = 8.0
    search_runs: int = 5_000
    search_api_runs: int = 100
    history_points: int = 100_000
    mlflow_history_points: int = 100_000
    start_reps: int = 3


DEFAULT = Sizes()
QUICK = Sizes(
    log_points=100_000,
    log_reps=2,
    mlflow_calls=200,
    mlflow_budget_s=2.0,
    search_runs=1_000,
    search_api_runs=50,
    history_points=100_000,
    mlflow_history_points=10_000,
    start_reps=1,
)


# -- server processes ---------------------------------------------------------------------

_ACCESS = re.compile(
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/[\d.]+" (?P<status>\d{3}) \S+ '
    r"(?P<ms>[\d.]+)ms"
)
_LIVE: set[subprocess.Popen[bytes]] = set()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server we started: SIGTERM to its own process group (it was started in a new
    session, so the group is the server and its children), SIGKILL if it lingers."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(STOP_TIMEOUT_S)
    else:  # the leader is gone; make sure no worker it started is left behind
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    _LIVE.discard(proc)


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_LIVE):
        _kill_group(proc)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A tracking server subprocess on 127.0.0.1 with its log in a file."""

    system: str  # "mlcycle" or "MLflow"
    store_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0  # time.time() at Popen, for the log's timestamps
    start_s: float = 0.0
    _log_offset: int = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def db(self) -> Path:
        return self.store_dir / ("mlcycle.db" if self.system == "mlcycle" else "mlflow.db")

    @property
    def log_path(self) -> Path:
        return self.store_dir / f"server-{self.port}.log"

    def command(self) -> list[str]:
        artifacts = str(self.store_dir / "artifacts")
        if self.system == "mlcycle":
            return [
                str(BIN / "mlcycle"),
                "server",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--tracking-uri",
                f"sqlite:///{self.db}",
                "--artifact-uri",
                artifacts,
            ]
        return [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{self.db}",
            "--default-artifact-root",
            artifacts,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]

    def start(self) -> float:
        """Start the server and wait for the first 200 on /health; return the seconds."""
        env = dict(os.environ)
        env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONUNBUFFERED="1")
        for key in ("MLCYCLE_TRACKING_URI", "MLCYCLE_ARTIFACT_URI", "MLFLOW_TRACKING_URI"):
            env.pop(key, None)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.started_at = time.time()
            t0 = perf_counter()
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.store_dir,
                start_new_session=True,
            )
        _LIVE.add(self.proc)
        with httpx.Client(timeout=2.0) as probe:
            while True:
                try:
                    if probe.get(f"{self.url}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.system} server exited with {self.proc.returncode} before "
                        f"answering /health; its log ends:\n{self.log_tail()}"
                    )
                if perf_counter() - t0 > START_TIMEOUT_S:
                    raise TimeoutError(
                        f"{self.system} server did not answer /health within "
                        f"{START_TIMEOUT_S:.0f} s; its log ends:\n{self.log_tail()}"
                    )
                time.sleep(0.01)
        self.start_s = perf_counter() - t0
        return self.start_s

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def new_requests(
        self, pattern: str = "", at_least: int = 0
    ) -> list[tuple[str, str, int, float]]:
        """Access-log entries since the last call: (method, target, status, server ms).

        The server writes a request's line just after sending its answer, so a client can
        read the log before the line is there: with ``at_least``, wait (up to 2 s) until
        that many new entries match ``pattern``. Only mlcycle logs per-request latency.
        """
        found: list[tuple[str, str, int, float]] = []
        rx = re.compile(pattern)
        deadline = perf_counter() + 2.0
        while True:
            with open(self.log_path, "rb") as handle:
                handle.seek(self._log_offset)
                data = handle.read()
            end = data.rfind(b"\n") + 1
            self._log_offset += end
            for line in data[:end].decode(errors="replace").splitlines():
                match = _ACCESS.search(line)
                if match:
                    found.append(
                        (match["method"], match["target"], int(match["status"]), float(match["ms"]))
                    )
            matching = sum(1 for method, target, _, _ in found if rx.search(f"{method} {target}"))
            if matching >= at_least or perf_counter() > deadline:
                return found
            time.sleep(0.01)

    def log_times(self) -> dict[str, float]:
        """Seconds after Popen at which the server's log says it reached each stage
        (mlcycle's log has millisecond timestamps; MLflow's only seconds, not parsed)."""
        if self.system != "mlcycle":
            return {}
        stages = {
            "Started server process": "uvicorn_started",
            "Application startup complete": "app_started",
            "Uvicorn running on": "listening",
            "GET /health": "first_health",
        }
        found: dict[str, float] = {}
        stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")
        for line in self.log_path.read_text(errors="replace").splitlines():
            match = stamp.match(line)
            for text, name in stages.items():
                if text in line and name not in found and match is not None:
                    wall = time.mktime(time.strptime(match[1], "%Y-%m-%d %H:%M:%S"))
                    found[name] = round(wall + int(match[2]) / 1000 - self.started_at, 3)
                    access = _ACCESS.search(line)
                    if name == "first_health" and access is not None:
                        found["first_health_server_ms"] = float(access["ms"])
        return found


def _server_ms(requests: Sequence[tuple[str, str, int, float]], pattern: str) -> list[float]:
    """Server-side latencies of the logged requests whose "METHOD target" matches."""
    rx = re.compile(pattern)
    return [ms for method, target, _, ms in requests if rx.search(f"{method} {target}")]


def _summary(samples: Sequence[float]) -> dict[str, Any]:
    if not samples:
        return {"requests": 0}
    return {
        "requests": len(samples),
        "median_ms": statistics.median(samples),
        "min_ms": min(samples),
        "max_ms": max(samples),
        "total_ms": sum(samples),
    }


# -- shared state -------------------------------------------------------------------------


@dataclass
class Env:
    """One server per system for log_metric, search and history."""

    sizes: Sizes
    mlcycle: Server
    mlflow: Server
    search: dict[str, Any] = field(default_factory=dict)


def _mlflow_client(url: str) -> Any:
    _mlflow()
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # "View run at"
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=url)


def prepare_search(sizes: Sizes, mlcycle_dir: Path, mlflow_dir: Path) -> dict[str, Any]:
    """Fill both stores with the search runs (before their servers start)."""
    n = sizes.search_runs
    data = make_runs(n, seed=2)  # the tracking suite's search data
    expected_count, expected = data.expected()
    with temp_dir("bulk-check") as scratch:
        check_mlcycle_rows(scratch, data)
        check_mlflow_rows(scratch, data)
    log("    bulk loaders checked: each writes the same rows as its system's API")
    mlcycle_dir.mkdir(parents=True, exist_ok=True)
    mlflow_dir.mkdir(parents=True, exist_ok=True)
    client = _mlcycle_client(mlcycle_dir)
    try:
        mc_loaded, _ = load_mlcycle(client, SEARCH_EXPERIMENT, data, sizes.search_api_runs)
    finally:
        client.close()
    mf_loaded, mlflow_exp = load_mlflow(mlflow_dir, SEARCH_EXPERIMENT, data, sizes.search_api_runs)
    return {
        "runs": n,
        "expected_count": expected_count,
        "expected": expected,
        "mlcycle_population": mc_loaded,
        "mlflow_population": mf_loaded,
        "mlflow_experiment_id": mlflow_exp,
    }


# -- 1. remote per-call log_metric --------------------------------------------------------


def _mlflow_remote_per_call(url: str, values: Sequence[float], sizes: Sizes) -> dict[str, Any]:
    client = _mlflow_client(url)
    exp_id = client.create_experiment("bench-log-metric")
    run_id = client.create_run(exp_id).info.run_id
    client.log_metric(run_id, "warmup", 0.0, step=0)
    n = 0
    t0 = perf_counter()
    while n < sizes.mlflow_calls and (n % 10 or perf_counter() - t0 < sizes.mlflow_budget_s):
        client.log_metric(run_id, "loss", values[n], step=n)
        n += 1
    elapsed = perf_counter() - t0
    stored = len(client.get_metric_history(run_id, "loss"))
    client.set_terminated(run_id)
    if stored != n:
        raise AssertionError(f"MLflow stored {stored} of {n} points")
    return {"calls": n, "seconds": elapsed, "points_per_s": n / elapsed}


def bench_log_metric(env: Env) -> Result:
    sizes = env.sizes
    n = sizes.log_points
    values = _loss_values(n, seed=1)
    server = env.mlcycle
    rates: list[float] = []
    loop_s: list[float] = []
    flush_s: list[float] = []
    server_ingest: list[dict[str, Any]] = []
    client = mlcycle.Client(tracking_uri=server.url)
    try:
        for rep in range(sizes.log_reps):
            run = client.start_run(experiment="bench-log-metric", capture_environment=False)
            log_metric = run.log_metric
            server.new_requests()
            gc.collect()
            t0 = perf_counter()
            for v in values:
                log_metric("loss", v)
            t1 = perf_counter()
            run.flush()
            t2 = perf_counter()
            ingest_rx = r"^POST .*/metrics/batches"
            ingest = _summary(_server_ms(server.new_requests(ingest_rx, 1), ingest_rx))
            server_ingest.append(ingest)
            rates.append(n / (t2 - t0))
            loop_s.append(t1 - t0)
            flush_s.append(t2 - t1)
            log(
                f"    mlcycle rep {rep + 1}: {fmt(rates[-1])} points/s (calls {t1 - t0:.3f} s, "
                f"flush {t2 - t1:.3f} s; server: {ingest['requests']} ingest request(s), "
                f"{fmt(ingest.get('total_ms', 0.0))} ms in total)"
            )
            run.end()
            stored = len(client.get_metric_history(run.id, "loss"))
            if stored != n:
                raise AssertionError(f"mlcycle's server stored {stored} of {n} points")
    finally:
        client.close()

    noop = _NoopRun().log_metric
    t0 = perf_counter()
    for v in values:
        noop("loss", v)
    floor = n / (perf_counter() - t0)
    log(f"    Python floor (a no-op method with the same signature): {fmt(floor)} calls/s")

    log("    MLflow per-call MlflowClient.log_metric over HTTP (bounded by calls and time)...")
    ml = _mlflow_remote_per_call(env.mlflow.url, values, sizes)
    log(f"    MLflow: {ml['calls']:,} calls in {ml['seconds']:.1f} s")
    return Result(
        name="log_metric",
        what=(
            f"remote per-call run.log_metric, {n:,} points into one run, timed until flush() "
            f"returns (committed by the server); median of {len(rates)} "
            f"(best {fmt(max(rates))} points/s)"
        ),
        unit="points/s",
        value=statistics.median(rates),
        goal=200_000,
        higher_is_better=True,
        mlflow=ml["points_per_s"],
        mlflow_note=f"MlflowClient.log_metric, one request per call, {ml['calls']:,} calls",
        details={
            "points": n,
            "rates_points_per_s": rates,
            "calls_s": loop_s,
            "flush_s": flush_s,
            "server_ingest": server_ingest,
            "python_noop_call_floor_per_s": floor,
            "mlflow": ml,
        },
    )


# -- 2. search over HTTP ------------------------------------------------------------------


def bench_search(env: Env) -> Result:
    info = env.search
    n, expected_count, expected = info["runs"], info["expected_count"], info["expected"]
    server = env.mlcycle
    client = mlcycle.Client(tracking_uri=server.url)
    try:

        def search() -> list[str]:
            runs = client.search_runs(
                [SEARCH_EXPERIMENT], filter=FILTER, order_by=[ORDER_BY], max_results=MAX_RESULTS
            )
            return [r.name for r in runs]

        names = search()
        ok = _check("mlcycle", names, expected_count, expected)
        server.new_requests("/runs/search", 1)
        timing = repeat(search, warmup=2, min_reps=10, max_reps=30, budget_s=3.0)
        requests = server.new_requests("/runs/search", len(timing.samples_ms) + 2)

        # Diagnostic: the search request alone (experiment ID known, no name lookup).
        exp_id = client.get_experiment(SEARCH_EXPERIMENT).id
        backend = client.tracking

        def one_request() -> list[str]:
            page = backend.search_runs([exp_id], FILTER, [ORDER_BY], max_results=MAX_RESULTS)
            return [r.name for r in page.runs]

        same = one_request() == names
        server.new_requests("/runs/search", 1)
        single = repeat(one_request, warmup=1, min_reps=10, max_reps=30, budget_s=2.0)
        single_rx = r"^POST /api/v1/runs/search"
        single_server = _server_ms(
            server.new_requests(single_rx, len(single.samples_ms) + 1), single_rx
        )[-len(single.samples_ms) :]
    finally:
        client.close()
    # The warm-up calls' requests are in the log too: keep the timed repetitions' share.
    reps = len(timing.samples_ms)
    per_search = len(requests) / (reps + 2)
    search_ms = _server_ms(requests, r"^POST /api/v1/runs/search")[-reps:]
    other_ms = [ms for method, target, _, ms in requests if "/runs/search" not in target]
    server_ms = statistics.median(search_ms) if search_ms else float("nan")
    log(
        f"    mlcycle search over HTTP: {timing.text()}; {per_search:.0f} requests per search; "
        f"server time of POST /runs/search: median {fmt(server_ms)} ms"
        + (f", other requests median {fmt(statistics.median(other_ms))} ms" if other_ms else "")
    )

    single_median = statistics.median(single_server) if single_server else float("nan")
    log(
        f"    diagnostic (not the result): the search request alone (backend.search_runs by "
        f"experiment ID): {single.text()}; server median {fmt(single_median)} ms, so client "
        f"+ transport ~{fmt(single.median - single_median)} ms; same answer: "
        f"{'yes' if same else 'NO'}"
    )

    ml = _mlflow_client(env.mlflow.url)
    ml_exp_id = info["mlflow_experiment_id"]

    def ml_search() -> list[str]:
        runs = ml.search_runs(
            experiment_ids=[ml_exp_id],
            filter_string=FILTER,
            order_by=[ORDER_BY],
            max_results=MAX_RESULTS,
        )
        return [r.info.run_name for r in runs]

    ml_names = ml_search()
    ml_ok = _check("MLflow", ml_names, expected_count, expected)
    ml_timing = repeat(ml_search, warmup=1, min_reps=3, max_reps=7, budget_s=6.0)
    log(f"    MLflow search over HTTP: {ml_timing.text()}")
    agree = names == ml_names
    log(
        f"    cross-check mlcycle vs MLflow: {len(names):,} vs {len(ml_names):,} runs, "
        f"same order of run names: {'yes' if agree else 'NO'}"
    )
    mc_loaded: Loaded = info["mlcycle_population"]
    mf_loaded: Loaded = info["mlflow_population"]
    return Result(
        name="search",
        what=(
            f"search_runs over HTTP, {n:,} runs (10 params, 10 metrics): {FILTER!r}, "
            f"order {ORDER_BY!r}, up to {MAX_RESULTS:,} ({len(expected):,} match); "
            f"median (min {fmt(timing.min)} ms; server {fmt(server_ms)} ms)"
        ),
        unit="ms",
        value=timing.median,
        goal=20.0,  # issue 21
        higher_is_better=False,
        mlflow=ml_timing.median,
        mlflow_note=f"median; min {fmt(ml_timing.min)} ms",
        details={
            "runs": n,
            "matching_runs": expected_count,
            "returned": len(names),
            "mlcycle": timing.summary(),
            "mlcycle_requests_per_search": per_search,
            "mlcycle_server_search": _summary(search_ms),
            "mlcycle_server_other_requests": _summary(other_ms),
            "diagnostic_single_request": {
                **single.summary(),
                "server": _summary(single_server),
                "same_answer": same,
            },
            "mlflow_timing": ml_timing.summary(),
            "mlcycle_population": mc_loaded.details(),
            "mlflow_population": mf_loaded.details(),
            "mlcycle_matches_numpy": ok,
            "mlflow_matches_numpy": ml_ok,
            "mlcycle_matches_mlflow": agree,
        },
    )


# -- 3. history over HTTP -----------------------------------------------------------------


def bench_history(env: Env) -> Result:
    sizes = env.sizes
    n = sizes.history_points
    steps, timestamps, values = make_series(n, seed=4)
    server = env.mlcycle
    client = mlcycle.Client(tracking_uri=server.url)
    try:
        run = client.start_run(experiment="bench-history", capture_environment=False)
        t0 = perf_counter()
        for s, t, v in zip(steps.tolist(), timestamps.tolist(), values.tolist(), strict=True):
            run.log_metric("loss", v, step=s, timestamp=t)
        run.end()
        log_s = perf_counter() - t0
        history = client.get_metric_history(run.id, "loss")
        exact = (
            np.array_equal(history.steps, steps)
            and np.array_equal(history.timestamps, timestamps)
            and np.array_equal(history.values, values)
        )
        log(
            f"    mlcycle: logged {n:,} points per call over HTTP and ended the run in "
            f"{log_s:.2f} s; read back bit-exact: {'yes' if exact else 'NO'}"
        )
        history_rx = r"^GET .*/metrics/history"
        server.new_requests(history_rx, 1)
        timing = repeat(
            lambda: client.get_metric_history(run.id, "loss"),
            warmup=2,
            min_reps=10,
            max_reps=50,
            budget_s=3.0,
        )
        reps = len(timing.samples_ms)
        server_ms = _server_ms(server.new_requests(history_rx, reps + 2), history_rx)[-reps:]
    finally:
        client.close()
    server_median = statistics.median(server_ms) if server_ms else float("nan")
    log(
        f"    mlcycle get_metric_history over HTTP: {timing.text()}; server time median "
        f"{fmt(server_median)} ms"
    )

    m = min(n, sizes.mlflow_history_points)
    ml = _mlflow_client(env.mlflow.url)
    exp = ml.create_experiment("bench-history")
    run_id = ml.create_run(exp).info.run_id
    t0 = perf_counter()
    _mlflow_log_series(
        ml, run_id, "loss", steps[:m].tolist(), timestamps[:m].tolist(), values[:m].tolist()
    )
    ml_log_s = perf_counter() - t0
    log(
        f"    MLflow: logged {m:,} points with log_batch over HTTP (1,000 per call) in "
        f"{ml_log_s:.1f} s ({fmt(m / ml_log_s)} points/s)"
    )
    # No warm-up (each call takes seconds): the first, checked call is the first sample.
    t0 = perf_counter()
    ml_len = len(ml.get_metric_history(run_id, "loss"))
    first_ms = (perf_counter() - t0) * 1000
    if ml_len != m:
        raise AssertionError(f"MLflow returned {ml_len} of {m} points")
    more = repeat(
        lambda: ml.get_metric_history(run_id, "loss"),
        warmup=0,
        min_reps=2,
        max_reps=4,
        budget_s=8.0,
    )
    ml_timing = Timing([first_ms, *more.samples_ms])
    log(f"    MLflow get_metric_history over HTTP ({ml_len:,} points): {ml_timing.text()}")
    return Result(
        name="history",
        what=(
            f"get_metric_history over HTTP of a {n:,}-point metric (NumPy arrays); median "
            f"(server {fmt(server_median)} ms)"
        ),
        unit="ms",
        value=timing.median,
        goal=30.0,
        higher_is_better=False,
        mlflow=ml_timing.median,
        mlflow_note=(
            f"median, {ml_len:,} points"
            + ("" if m == n else f"; at {n:,} points it would take ~{n / m:.0f}x longer")
        ),
        details={
            "points": n,
            "mlcycle": timing.summary(),
            "mlcycle_server_history": _summary(server_ms),
            "mlcycle_log_and_end_s": log_s,
            "bit_exact": exact,
            "mlflow_points": ml_len,
            "mlflow_timing": ml_timing.summary(),
            "mlflow_log_batch_s": ml_log_s,
        },
    )


# -- 4. server start ----------------------------------------------------------------------


def _import_seconds() -> dict[str, float]:
    """Diagnostic: a fresh interpreter's wall time for nothing, and for importing what
    ``mlcycle server`` imports before it can listen (the CLI, the app, uvicorn)."""
    python = sys.executable
    out = {}
    for name, code in (
        ("python_startup_s", "pass"),
        ("python_import_cli_server_s", "import mlcycle.cli.app, mlcycle.server.app, uvicorn"),
    ):
        t0 = perf_counter()
        subprocess.run([python, "-c", code], check=True, timeout=60)
        out[name] = round(perf_counter() - t0, 3)
    return out


def bench_start(sizes: Sizes, shared: dict[str, float]) -> Result:
    times: dict[str, list[float]] = {"mlcycle": [], "MLflow": []}
    stages: list[dict[str, float]] = []
    for rep in range(sizes.start_reps):
        for system in ("mlcycle", "MLflow"):
            with temp_dir(f"start-{system.lower()}") as tmp:
                server = Server(system, tmp)
                try:
                    seconds = server.start()
                finally:
                    server.stop()
                times[system].append(seconds)
                if system == "mlcycle":
                    stages.append(server.log_times())
                log(f"    rep {rep + 1}: {system} answered /health {seconds:.2f} s after Popen")
    imports = _import_seconds()
    log(
        "    diagnostic: a fresh interpreter takes "
        f"{imports['python_startup_s']:.2f} s for nothing and "
        f"{imports['python_import_cli_server_s']:.2f} s to import mlcycle's CLI, server app "
        f"and uvicorn; mlcycle's log stages (s after Popen): {stages[-1] if stages else {}}"
    )
    mc = statistics.median(times["mlcycle"])
    mf = statistics.median(times["MLflow"])
    return Result(
        name="start",
        what=(
            f"server start on a new SQLite store: Popen until the first 200 on /health; "
            f"median of {len(times['mlcycle'])} (min {fmt(min(times['mlcycle']))} s)"
        ),
        unit="s",
        value=mc,
        goal=1.5,  # issue 21
        higher_is_better=False,
        mlflow=mf,
        mlflow_note=f"median of {len(times['MLflow'])}; min {fmt(min(times['MLflow']))} s",
        details={
            "mlcycle_s": times["mlcycle"],
            "mlflow_s": times["MLflow"],
            "mlcycle_log_stages_s": stages,
            "start_on_populated_store_s": shared,
            **imports,
        },
    )


# -- the suite ----------------------------------------------------------------------------

_SHARED: dict[str, Callable[[Env], Result]] = {
    "log_metric": bench_log_metric,
    "search": bench_search,
    "history": bench_history,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``server.json``.

    Returns False when a benchmark raised (its traceback is printed and recorded).
    """
    sizes = QUICK if quick else DEFAULT
    suite = SuiteRun(SUITE, quick=quick)
    selected = [name for name in BENCHMARKS if only is None or name in only]
    shared_names = [name for name in selected if name in _SHARED]
    shared_start: dict[str, float] = {}

    if shared_names:
        with temp_dir("server") as tmp, ExitStack() as stack:
            env: Env | None = None
            log(f"\n-- setup (load average {load_average()})")
            try:
                search_info: dict[str, Any] = {}
                if "search" in shared_names:
                    search_info = prepare_search(sizes, tmp / "mlcycle", tmp / "mlflow")
                servers = {}
                for system, sub in (("mlcycle", "mlcycle"), ("MLflow", "mlflow")):
                    server = Server(system, tmp / sub)
                    stack.callback(server.stop)
                    seconds = server.start()
                    servers[system] = server
                    shared_start[system] = seconds
                    log(
                        f"    {system} server on {server.url} answered /health after "
                        f"{seconds:.2f} s" + (" (store already populated)" if search_info else "")
                    )
                env = Env(sizes, servers["mlcycle"], servers["MLflow"], search_info)
            except Exception:
                for name in shared_names:
                    suite.fail(name, "setup failed:\n" + traceback.format_exc())
            if env is not None:
                for name in shared_names:
                    suite.record(name, partial(_SHARED[name], env))
    if "start" in selected:
        suite.record("start", lambda: bench_start(sizes, shared_start))

    return suite.finish(out_dir)
