"""Serving benchmarks: ``mlcycle serve`` beside ``mlflow models serve``, BentoML and the
floors, one worker each (and ``mlcycle serve --workers 2`` for the scaling).

The model is the issue's: LogisticRegression fitted on ``make_classification(10_000, 20)``,
saved once with ``mlcycle.models.save``, once with ``mlflow.sklearn.save_model`` and once
pickled for BentoML (same fitted object). Every server runs as a subprocess on a free
127.0.0.1 port with its defaults (mlcycle logs every prediction to its Parquet log):

* ``mlcycle serve MODEL`` (one worker), and ``mlcycle serve MODEL --workers 2``;
* ``mlflow models serve --env-manager local --workers 1``;
* BentoML (``bentoml serve``) from its own venv ``.venv-bentoml`` (``make bench`` makes
  it; BentoML's dependencies do not fit the main venv's), with a service file written at
  run time: one ``@bentoml.api`` that calls the unpickled model's ``predict``;
* the **floors**: an empty ASGI app (reads the body, answers ``{"predictions":[1]}``)
  under uvicorn with the options ``mlcycle serve`` uses, so the load generator's and
  uvicorn's own ceiling shows; and the model's own ``predict`` on one row in a loop (in
  this process, no HTTP).

1. ``one_row``: one-row requests (``dataframe_split``; BentoML's ``{"input": rows}``) at
   concurrency 32 for a fixed time, measured with wrk (a Lua script sets the POST body)
   after a warm-up: requests/s, p50 and p99, and the CPU time per request of the server's
   process tree and of the load generator (``psutil``; CPU time moves far less than the
   wall clock when other work shares the machine). Non-2xx answers are counted.
2. ``rows_1000``: one 1,000-row request at a time over a kept-alive connection (httpx),
   the median of many, client side.
3. ``hot_swap``: mlcycle serving ``models:/bench@champion`` (polling every 0.2 s) under the
   same wrk load while the alias moves ten times between two versions; each move is
   waited for (the model metadata names the new version). The figure is failed requests
   (non-2xx answers plus socket errors); MLflow cannot reload a model, so it has none.

Without wrk (``apt-get install wrk``; ``make bench`` tries), a Python load generator
(asyncio + httpx, 32 concurrent clients) stands in, and the run says so: it is slower
than the servers, so it measures less than they can do (the empty app shows how much).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import Result, SuiteRun, fmt, load_average, log, temp_dir

BENCHMARKS = (
    "one_row_rps",
    "one_row_p99",
    "one_row_cpu",
    "bentoml_rps",
    "workers_2",
    "rows_1000",
    "hot_swap",
)

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
CONCURRENCY = 32
COLUMNS = [f"f{i}" for i in range(20)]
#: BentoML's venv (``make bench`` creates it); MLCYCLE_BENCH_BENTOML_PYTHON overrides it.
BENTOML_PYTHON = Path(
    os.environ.get(
        "MLCYCLE_BENCH_BENTOML_PYTHON",
        Path(__file__).resolve().parent.parent / ".venv-bentoml" / "bin" / "python",
    )
)

#: The BentoML service, written next to the pickled model at run time.
_BENTO_SERVICE = """\
import os
import pickle

import bentoml
import numpy as np


@bentoml.service
class Classifier:
    def __init__(self) -> None:
        with open(os.environ["BENCH_MODEL_PICKLE"], "rb") as f:
            self.model = pickle.load(f)

    @bentoml.api
    def predict(self, input: np.ndarray) -> np.ndarray:
        return self.model.predict(input)
"""

#: The empty ASGI app: reads the body, answers what a one-row prediction answers.
_EMPTY_APP = """\
ANSWER = b'{"predictions":[1]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"19")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": ANSWER})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _fit() -> tuple[Any, np.ndarray]:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=10_000, n_features=20, random_state=0)
    return LogisticRegression(max_iter=1_000).fit(X, y), X


def _split_body(rows: np.ndarray) -> bytes:
    import orjson

    payload = {"dataframe_split": {"columns": COLUMNS, "data": rows.tolist()}}
    return orjson.dumps(payload)


@contextmanager
def _server(
    command: list[str], log_path: Path, ready_path: str, env: dict[str, str]
) -> Iterator[str]:
    """Start a server in its own process group; yield its URL once ``ready_path`` is 200."""
    with _server_process(command, log_path, ready_path, env) as (url, _):
        yield url


@contextmanager
def _server_process(
    command: list[str],
    log_path: Path,
    ready_path: str,
    env: dict[str, str],
    cwd: Path | None = None,
) -> Iterator[tuple[str, int]]:
    """Like ``_server``; yields the URL and the server's PID."""
    port = _free_port()
    url = f"http://{HOST}:{port}"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command[0]} exited: {log_path.read_text()[-2000:]}")
            with suppress(httpx.HTTPError):
                if httpx.get(url + ready_path, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{command[0]} did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url, proc.pid
    finally:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# -- load generation ------------------------------------------------------------------


def _wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _load(
    url: str, body: bytes, seconds: float, work: Path, *, concurrency: int = CONCURRENCY
) -> dict[str, float]:
    """requests/s, p99 ms and failures of ``seconds`` of POSTs at ``concurrency``."""
    if _wrk_available():
        return _wrk(url, body, seconds, work, concurrency)
    return asyncio.run(_python_load(url, body, seconds, concurrency))


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its live descendants."""
    import psutil

    total = 0.0
    with suppress(psutil.Error):
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            with suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


def _generator_cpu_s() -> float:
    """CPU seconds of the load generator so far: wrk (a waited-for child) or this process."""
    if _wrk_available():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    else:
        usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(
    url: str,
    body: bytes,
    seconds: float,
    work: Path,
    pid: int,
    *,
    concurrency: int = CONCURRENCY,
) -> dict[str, float]:
    """``_load`` plus CPU microseconds per request of the server (``pid``'s tree) and of
    the load generator, and the load average when it ended."""
    server0, generator0 = _tree_cpu_s(pid), _generator_cpu_s()
    load = _load(url, body, seconds, work, concurrency=concurrency)
    server, generator = _tree_cpu_s(pid) - server0, _generator_cpu_s() - generator0
    requests = max(load["requests"], 1.0)
    return {
        **load,
        "server_cpu_us": server / requests * 1e6,
        "generator_cpu_us": generator / requests * 1e6,
        "server_cores": server / seconds,
        "load_average": load_average()[0] if load_average() else float("nan"),
    }


def _wrk(
    url: str, body: bytes, seconds: float, work: Path, concurrency: int = CONCURRENCY
) -> dict[str, float]:
    script = work / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = [==[{body.decode()}]==]\n"  # a long string: JSON has ]] in it
    )
    if "]==]" in body.decode():
        raise ValueError("the body cannot be quoted for Lua")
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(2, concurrency)}",
            f"-c{concurrency}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _parse_wrk(output)


def _parse_wrk(output: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", output)
    p50_ms = float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    total = re.search(r"(\d+) requests in", output)
    failed = int(non2xx.group(1)) if non2xx else 0
    socket_errors = sum(int(g) for g in errors.groups()) if errors else 0
    return {
        "rps": rps,
        "p99_ms": p99_ms,
        "p50_ms": p50_ms,
        "failed": failed + socket_errors,
        "requests": float(total.group(1)) if total else 0.0,
    }


async def _python_load(
    url: str, body: bytes, seconds: float, concurrency: int = CONCURRENCY
) -> dict[str, float]:
    latencies: list[float] = []
    failed = 0
    stop = time.perf_counter() + seconds
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def worker() -> None:
            nonlocal failed
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    response = await http.post(url, content=body, headers=headers)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t0) * 1000)
                failed += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "rps": len(latencies) / elapsed,
        "p99_ms": float(np.percentile(latencies, 99)),
        "p50_ms": float(np.percentile(latencies, 50)),
        "failed": float(failed),
        "requests": float(len(latencies)),
    }


def _median_request_ms(url: str, body: bytes, reps: int) -> tuple[float, list[float]]:
    samples = []
    with httpx.Client(timeout=60, headers={"content-type": "application/json"}) as http:
        for i in range(reps + 5):
            t0 = time.perf_counter()
            response = http.post(url, content=body)
            elapsed = (time.perf_counter() - t0) * 1000
            response.raise_for_status()
            if i >= 5:  # warm-up
                samples.append(elapsed)
    return statistics.median(samples), samples


# -- the suite --------------------------------------------------------------------------

#: The goals of issue 21: one worker, concurrency 32, prediction log on.
GOAL_RPS = 5_000
GOAL_P99_MS = 20
#: One core answering GOAL_RPS requests a second has this much CPU time per request.
GOAL_CPU_US = 1e6 / GOAL_RPS
#: Two workers should answer this many times what one does (on 2 CPUs, wrk takes a share).
GOAL_SCALING = 1.5


def _bento_body(rows: np.ndarray) -> bytes:
    import orjson

    return orjson.dumps({"input": rows.tolist()})


def _predict_floor(model: Any, X: np.ndarray, seconds: float) -> dict[str, float]:
    """The model's own ``predict`` (and ``predict`` + ``predict_proba``, what a logged
    prediction needs) on one row in a loop, in this process."""
    row = X[:1]

    def loop(fn: Any) -> tuple[float, float]:
        fn(row)
        calls = 0
        cpu0, t0 = time.process_time(), time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            fn(row)
            calls += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        return calls / wall, cpu / calls * 1e6

    rps, cpu_us = loop(model.predict)
    both_rps, both_us = loop(lambda r: (model.predict(r), model.predict_proba(r)))
    return {
        "rps": rps,
        "cpu_us": cpu_us,
        "with_proba_rps": both_rps,
        "with_proba_cpu_us": both_us,
        "load_average": load_average()[0] if load_average() else float("nan"),
    }


def _line(system: str, load: dict[str, float]) -> str:
    return (
        f"    {system}: {fmt(load['rps'])} req/s, p50 {fmt(load['p50_ms'])} ms, "
        f"p99 {fmt(load['p99_ms'])} ms, {int(load['failed'])} failed of "
        f"{int(load['requests'])}; CPU per request: server {fmt(load['server_cpu_us'])} us "
        f"({fmt(load['server_cores'])} cores busy), load generator "
        f"{fmt(load['generator_cpu_us'])} us; load average {fmt(load['load_average'])}"
    )


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    suite = SuiteRun("serving", quick=quick)
    if not _wrk_available():
        log(
            "NOTE: wrk is not installed (apt-get install wrk); a Python load generator "
            "(asyncio + httpx) stands in and measures less than the servers can do"
        )

    def want(*names: str) -> bool:
        return only is None or bool(only & set(names))

    seconds = 4.0 if quick else 10.0
    reps = 30 if quick else 200
    with temp_dir("serving") as work:
        model, X = _fit()
        import pandas as pd

        import mlcycle

        example = pd.DataFrame(X[:5], columns=COLUMNS)
        mlcycle.models.save(model, work / "mlcycle-model", input_example=example)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
        env["MLCYCLE_TRACKING_URI"] = f"sqlite:///{work / 'mlcycle.db'}"
        env["MLCYCLE_ARTIFACT_URI"] = str(work / "artifacts")
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # mlflow runs `uvicorn`
        env["BENCH_MODEL_PICKLE"] = str(work / "model.pkl")
        env["BENTOML_DO_NOT_TRACK"] = "true"  # no usage reports from the benchmark
        # the empty app and the BentoML service are modules in ``work``
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(work), env.get("PYTHONPATH")]))
        mlflow_dir = work / "mlflow-model"
        import mlflow.sklearn

        mlflow.sklearn.save_model(model, str(mlflow_dir), input_example=example)
        (work / "model.pkl").write_bytes(pickle.dumps(model))
        (work / "bench_bento.py").write_text(_BENTO_SERVICE)
        (work / "bench_empty.py").write_text(_EMPTY_APP)
        one_row = _split_body(X[:1])
        rows_1000 = _split_body(X[:1000])
        model_dir = str(work / "mlcycle-model")
        uvicorn_options = [
            "--host",
            HOST,
            "--no-access-log",
            "--log-level",
            "warning",
            "--no-server-header",
            "--no-date-header",
            "--no-proxy-headers",
            "--backlog",
            "2048",
        ]
        # name -> (command, ready path, predict path, one-row body, also time 1,000 rows)
        servers: dict[str, tuple[list[str], str, str, bytes, bool]] = {
            "empty ASGI app": ([str(BIN / "python"), "-m", "uvicorn", "bench_empty:app",
                                *uvicorn_options], "/", "/invocations", one_row, False),
            "mlcycle": ([str(BIN / "mlcycle"), "serve", model_dir], "/ping", "/invocations",
                        one_row, True),
            "mlcycle --workers 2": ([str(BIN / "mlcycle"), "serve", model_dir, "--workers", "2"],
                                    "/ping", "/invocations", one_row, False),
            "mlflow": ([str(BIN / "mlflow"), "models", "serve", "-m", str(mlflow_dir),
                        "--env-manager", "local", "--workers", "1", "--host", HOST],
                       "/ping", "/invocations", one_row, True),
            "BentoML": ([str(BENTOML_PYTHON), "-m", "bentoml", "serve", "bench_bento:Classifier",
                         "--host", HOST], "/readyz", "/predict", _bento_body(X[:1]), False),
        }  # fmt: skip
        if not want("workers_2"):
            del servers["mlcycle --workers 2"]
        if not want("bentoml_rps"):
            del servers["BentoML"]
        elif not BENTOML_PYTHON.exists():
            log(f"    BentoML not measured: {BENTOML_PYTHON} is missing (run `make bench`)")
            del servers["BentoML"]
        figures: dict[str, dict[str, Any]] = {}
        log(f"the model's own predict on one row, in a loop ({fmt(seconds)} s) ...")
        floor = _predict_floor(model, X, seconds / 2)
        log(
            f"    predict: {fmt(floor['rps'])} calls/s, {fmt(floor['cpu_us'])} us CPU each; "
            f"predict + predict_proba: {fmt(floor['with_proba_rps'])} calls/s, "
            f"{fmt(floor['with_proba_cpu_us'])} us CPU; load average {fmt(floor['load_average'])}"
        )
        for system, (command, ready, path, body, big) in servers.items():
            log(f"starting {system} ...")
            try:
                with _server_process(
                    command, work / f"{system.split()[0]}.log", ready, env, cwd=work
                ) as (url, pid):
                    target = f"{url}{path}"
                    _median_request_ms(target, body, 20)  # warm the model and connections
                    _load(target, body, 2.0, work)  # warm-up under load
                    load = _measure(target, body, seconds, work, pid)
                    figures[system] = {"load": load}
                    if big and want("rows_1000"):
                        median, samples = _median_request_ms(target, rows_1000, reps)
                        figures[system].update(rows_1000_ms=median, samples=samples)
                    log(_line(system, load))
            except Exception:
                log(f"    {system} FAILED:\n{traceback.format_exc()}")
                if system in ("mlcycle", "mlflow"):
                    raise
        _print_table(figures, floor)
        mine, theirs = figures["mlcycle"], figures["mlflow"]
        bento = figures.get("BentoML")
        empty = figures["empty ASGI app"]["load"]
        tool = "wrk" if _wrk_available() else "Python load generator"
        details = {
            "tool": tool,
            "seconds": seconds,
            "concurrency": CONCURRENCY,
            "predict_floor": floor,
            **{name: f["load"] for name, f in figures.items()},
        }

        if want("one_row_rps"):
            suite.record(
                "one_row_rps",
                lambda: Result(
                    name="one_row_rps",
                    what=f"one-row /invocations requests per second at concurrency 32 ({tool}), "
                    "one worker, prediction log on",
                    unit="req/s",
                    value=mine["load"]["rps"],
                    goal=GOAL_RPS,
                    higher_is_better=True,
                    mlflow=theirs["load"]["rps"],
                    details=details,
                ),
            )
        if want("one_row_p99"):
            suite.record(
                "one_row_p99",
                lambda: Result(
                    name="one_row_p99",
                    what="p99 latency of those one-row requests",
                    unit="ms",
                    value=mine["load"]["p99_ms"],
                    goal=GOAL_P99_MS,
                    higher_is_better=False,
                    mlflow=theirs["load"]["p99_ms"],
                    details=details,
                ),
            )
        if want("one_row_cpu"):
            suite.record(
                "one_row_cpu",
                lambda: Result(
                    name="one_row_cpu",
                    what="server CPU time per one-row request under that load (all threads); "
                    f"the goal is one core at {GOAL_RPS:,} req/s; beside it the empty ASGI app",
                    unit="us",
                    value=mine["load"]["server_cpu_us"],
                    goal=GOAL_CPU_US,
                    higher_is_better=False,
                    mlflow=empty["server_cpu_us"],
                    competitor="empty app",
                    details={"mlflow_us": theirs["load"]["server_cpu_us"], **details},
                ),
            )
        if want("bentoml_rps") and bento is not None:
            suite.record(
                "bentoml_rps",
                lambda: Result(
                    name="bentoml_rps",
                    what="the one-row requests/s of one_row_rps beside BentoML's (its defaults, "
                    f"own venv; BentoML p99 {fmt(bento['load']['p99_ms'])} ms)",
                    unit="req/s",
                    value=mine["load"]["rps"],
                    goal=GOAL_RPS,
                    higher_is_better=True,
                    mlflow=bento["load"]["rps"],
                    competitor="BentoML",
                    details=details,
                ),
            )
        two = figures.get("mlcycle --workers 2")
        if want("workers_2") and two is not None:
            scaling = two["load"]["rps"] / max(mine["load"]["rps"], 1e-9)
            suite.record(
                "workers_2",
                lambda: Result(
                    name="workers_2",
                    what=f"mlcycle serve --workers 2 over one worker, one-row req/s ({tool}; "
                    f"{fmt(two['load']['rps'])} vs {fmt(mine['load']['rps'])} req/s, server "
                    f"{fmt(two['load']['server_cores'])} vs {fmt(mine['load']['server_cores'])} "
                    "cores busy)",
                    unit="x",
                    value=scaling,
                    goal=GOAL_SCALING,
                    higher_is_better=True,
                    mlflow_note="not measured: the scaling is mlcycle's own",
                    details=details,
                ),
            )
        if want("rows_1000"):
            suite.record(
                "rows_1000",
                lambda: Result(
                    name="rows_1000",
                    what=f"one 1,000-row /invocations request, median of {reps} (client side)",
                    unit="ms",
                    value=mine["rows_1000_ms"],
                    goal=5,
                    higher_is_better=False,
                    mlflow=theirs["rows_1000_ms"],
                    details={
                        "min_ms": min(mine["samples"]),
                        "mlflow_min_ms": min(theirs["samples"]),
                    },
                ),
            )
        if want("hot_swap"):
            suite.record("hot_swap", lambda: _hot_swap(work, model, example, env, seconds))
    return suite.finish(out_dir)


def _print_table(figures: dict[str, dict[str, Any]], floor: dict[str, float]) -> None:
    """Every system side by side, the floors first."""
    log(
        f"\n    {'one-row, concurrency 32':<26} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'server CPU us/req':>18} {'generator us/req':>17} {'load':>5}"
    )
    log(
        f"    {'model predict, 1 row':<26} {fmt(floor['rps']):>8} {'':>7} {'':>7} "
        f"{fmt(floor['cpu_us']):>18} {'':>17} {fmt(floor['load_average']):>5}"
    )
    log(
        f"    {'  + predict_proba':<26} {fmt(floor['with_proba_rps']):>8} {'':>7} {'':>7} "
        f"{fmt(floor['with_proba_cpu_us']):>18} {'':>17} {'':>5}"
    )
    for name, figure in figures.items():
        load = figure["load"]
        log(
            f"    {name:<26} {fmt(load['rps']):>8} {fmt(load['p50_ms']):>7} "
            f"{fmt(load['p99_ms']):>7} {fmt(load['server_cpu_us']):>18} "
            f"{fmt(load['generator_cpu_us']):>17} {fmt(load['load_average']):>5}"
        )


def _hot_swap(work: Path, model: Any, example: Any, env: dict[str, str], seconds: float) -> Result:
    import mlcycle

    client = mlcycle.Client(env["MLCYCLE_TRACKING_URI"], env["MLCYCLE_ARTIFACT_URI"])
    try:
        for _ in range(2):
            with client.start_run("serving-bench", capture_environment=False) as run:
                run.log_model(model, "model", input_example=example, register="bench")
        client.registry.set_alias("bench", "champion", 1)
        command = [
            str(BIN / "mlcycle"),
            "serve",
            "models:/bench@champion",
            "--poll-interval",
            "200ms",
        ]
        with _server(command, work / "hot.log", "/ping", env) as url:
            body = _split_body(example.to_numpy()[:1])
            outcome: dict[str, dict[str, float]] = {}
            duration = max(seconds, 30.0)
            loader = threading.Thread(
                target=lambda: outcome.update(
                    load=_load(f"{url}/invocations", body, duration, work)
                )
            )
            loader.start()
            moves = 0
            swap_s: list[float] = []
            with httpx.Client(timeout=30) as http:
                for i in range(10):
                    version = 2 if i % 2 == 0 else 1
                    t0 = time.perf_counter()
                    client.registry.set_alias("bench", "champion", version)
                    while http.get(f"{url}/v2/models/bench").json()["versions"] != [str(version)]:
                        time.sleep(0.02)
                    swap_s.append(time.perf_counter() - t0)
                    moves += 1
            loader.join()
        load = outcome["load"]
        if load["failed"]:
            log((work / "hot.log").read_text()[-3000:])
        log(
            f"    {moves} alias moves under load, each live after "
            f"{fmt(statistics.median(swap_s))} s (median); {int(load['requests'])} requests, "
            f"{int(load['failed'])} failed"
        )
        return Result(
            name="hot_swap",
            what="failed requests while models:/bench@champion moves 10 times under load",
            unit="failed requests",
            value=load["failed"],
            goal=0,
            higher_is_better=False,
            mlflow_note="MLflow cannot reload a model: restart only",
            details={"moves": moves, "swap_s": swap_s, "load": load},
        )
    finally:
        client.close()
