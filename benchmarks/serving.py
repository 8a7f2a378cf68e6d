"""Serving benchmarks: ``mlcycle serve`` against ``mlflow models serve``, one worker each.

The model is the issue's: LogisticRegression fitted on ``make_classification(10_000, 20)``,
saved once with ``mlcycle.models.save`` and once with ``mlflow.sklearn.save_model`` (same
fitted object, same input example). Both servers run as subprocesses on free 127.0.0.1
ports with their defaults (mlcycle logs every prediction to its Parquet log).

1. ``one_row``: one-row ``/invocations`` requests (``dataframe_split``) at concurrency 32
   for a fixed time, measured with wrk (a Lua script sets the POST body) after a warm-up:
   requests/s and the p99 latency. Non-2xx answers are counted and reported.
2. ``rows_1000``: one 1,000-row request at a time over a kept-alive connection (httpx),
   the median of many, client side.
3. ``hot_swap``: mlcycle serving ``models:/bench@champion`` (polling every 0.2 s) under the
   same wrk load while the alias moves ten times between two versions; each move is
   waited for (the model metadata names the new version). The figure is failed requests
   (non-2xx answers plus socket errors); MLflow cannot reload a model, so it has none.

Without wrk (``apt-get install wrk``; ``make bench`` tries), a Python load generator
(asyncio + httpx, 32 concurrent clients) stands in, and the run says so: it is slower
than the servers, so it measures less than they can do.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import Result, SuiteRun, fmt, log, temp_dir

BENCHMARKS = ("one_row_rps", "one_row_p99", "rows_1000", "hot_swap")

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
CONCURRENCY = 32
COLUMNS = [f"f{i}" for i in range(20)]


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
    port = _free_port()
    url = f"http://{HOST}:{port}"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
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
        yield url
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


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    suite = SuiteRun("serving", quick=quick)
    if not _wrk_available():
        log(
            "NOTE: wrk is not installed (apt-get install wrk); a Python load generator "
            "(asyncio + httpx) stands in and measures less than the servers can do"
        )
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
        mlflow_dir = work / "mlflow-model"
        import mlflow.sklearn

        mlflow.sklearn.save_model(model, str(mlflow_dir), input_example=example)
        one_row = _split_body(X[:1])
        rows_1000 = _split_body(X[:1000])
        figures: dict[str, dict[str, Any]] = {}
        servers = {
            "mlcycle": ([str(BIN / "mlcycle"), "serve", str(work / "mlcycle-model")], "/ping"),
            "mlflow": (
                [str(BIN / "mlflow"), "models", "serve", "-m", str(mlflow_dir),
                 "--env-manager", "local", "--workers", "1", "--host", HOST],
                "/ping",
            ),
        }  # fmt: skip
        for system, (command, ready) in servers.items():
            log(f"starting {system} ...")
            with _server(command, work / f"{system}.log", ready, env) as url:
                invocations = f"{url}/invocations"
                _median_request_ms(invocations, one_row, 20)  # warm the model and connections
                _load(invocations, one_row, 2.0, work)  # warm-up under load
                load = _load(invocations, one_row, seconds, work)
                median, samples = _median_request_ms(invocations, rows_1000, reps)
                figures[system] = {"load": load, "rows_1000_ms": median, "samples": samples}
                log(
                    f"    {system}: {fmt(load['rps'])} req/s, p50 {fmt(load['p50_ms'])} ms, "
                    f"p99 {fmt(load['p99_ms'])} ms, {int(load['failed'])} failed of "
                    f"{int(load['requests'])}; 1,000 rows: median {fmt(median)} ms"
                )
        mine, theirs = figures["mlcycle"], figures["mlflow"]
        tool = "wrk" if _wrk_available() else "Python load generator"
        details = {"tool": tool, "seconds": seconds, "concurrency": CONCURRENCY}

        def want(name: str) -> bool:
            return only is None or name in only

        if want("one_row_rps"):
            suite.record(
                "one_row_rps",
                lambda: Result(
                    name="one_row_rps",
                    what=f"one-row /invocations requests per second at concurrency 32 ({tool})",
                    unit="req/s",
                    value=mine["load"]["rps"],
                    goal=3_000,
                    higher_is_better=True,
                    mlflow=theirs["load"]["rps"],
                    details={**details, "mlcycle": mine["load"], "mlflow": theirs["load"]},
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
                    goal=25,
                    higher_is_better=False,
                    mlflow=theirs["load"]["p99_ms"],
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
