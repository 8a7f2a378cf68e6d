"""Start-up: ``mlcycle --help`` and ``mlcycle runs list X`` in a fresh process, against
``mlflow --help`` and ``mlflow runs list`` in the same run; and the time from launching
``mlcycle server`` (a SQLite store) and ``mlcycle serve MODEL`` to their first 200 on
``/health`` and ``/ping``, beside ``mlflow server`` and ``mlflow models serve
--env-manager local`` on the same store and model (goal: 1.5 s each).

Two figures per command: the wall-clock time of the whole process (interpreter start,
imports, the work, exit), and the import time alone as ``python -X importtime`` reports it
(the sum of the top-level imports' cumulative times), which the goal is about: well under
0.3 s of imports for ``mlcycle --help``.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks._common import Result, Timing, fmt, log, run_benches, temp_dir

SUITE = "cli"
BENCHMARKS = (
    "help_imports",
    "help_wall",
    "runs_list_wall",
    "server_healthy",
    "serving_healthy",
)
HOST = "127.0.0.1"
HEALTHY_GOAL_S = 1.5

HELP_GOAL_S = 0.3

_MLCYCLE_HELP = "from mlcycle.cli.app import main\nmain(['--help'])"
_MLFLOW_HELP = "from mlflow.cli import cli\ncli(['--help'])"


@dataclass(frozen=True)
class Sizes:
    reps: int = 7


DEFAULT = Sizes()
QUICK = Sizes(reps=2)


#: CPU seconds (user + system) of each child process measured, per command label: on a
#: busy machine the wall clock mostly measures the other work; CPU time much less.
CPU_SECONDS: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds one process takes, start to exit (its CPU time goes to CPU_SECONDS)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    CPU_SECONDS.setdefault(_label(argv), []).append(_children_cpu() - cpu)
    return seconds


def _label(argv: Sequence[str]) -> str:
    return " ".join([Path(argv[0]).name, *argv[1:2]])


def cpu_text(label: str) -> str:
    """The median CPU time of the processes measured under ``label``."""
    samples = sorted(CPU_SECONDS.get(label, []))
    if not samples:
        return "CPU n/a"
    return f"CPU median {fmt(samples[len(samples) // 2] * 1000.0)} ms"


def _timing(fn: Callable[[], float], reps: int) -> Timing:
    fn()  # the first start fills the OS's file cache and Python's .pyc files
    return Timing([fn() * 1000.0 for _ in range(reps)])


def import_seconds(code: str, env: dict[str, str]) -> float:
    """The imports of running ``code`` in a fresh interpreter, per ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    total_us = 0
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith(" ") and not name.startswith("  "):  # top level only
            total_us += int(cumulative)
    return total_us / 1e6


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLCYCLE_", "MLFLOW_"))}
    return {**env, **extra}


def _script(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def bench_help_imports(sizes: Sizes) -> Result:
    env = _env()
    ours = min(import_seconds(_MLCYCLE_HELP, env) for _ in range(sizes.reps))
    theirs = min(import_seconds(_MLFLOW_HELP, env) for _ in range(sizes.reps))
    return Result(
        name="help_imports",
        what="imports of `mlcycle --help` (python -X importtime, best of the reps)",
        unit="s",
        value=ours,
        goal=HELP_GOAL_S,
        higher_is_better=False,
        mlflow=theirs,
        mlflow_note="imports of `mlflow --help`",
    )


def bench_help_wall(sizes: Sizes) -> Result:
    env = _env()
    ours = _timing(lambda: _run([_script("mlcycle"), "--help"], env), sizes.reps)
    theirs = _timing(lambda: _run([_script("mlflow"), "--help"], env), sizes.reps)
    log(
        f"    mlcycle --help: {ours.text()}; {cpu_text('mlcycle --help')}\n"
        f"    mlflow --help: {theirs.text()}; {cpu_text('mlflow --help')}"
    )
    return Result(
        name="help_wall",
        what="`mlcycle --help`, a fresh process start to exit (median)",
        unit="ms",
        value=ours.median,
        goal=500.0,
        higher_is_better=False,
        mlflow=theirs.median,
        mlflow_note="`mlflow --help`",
        details={"mlcycle": ours.summary(), "mlflow": theirs.summary()},
    )


def bench_runs_list_wall(sizes: Sizes) -> Result:
    with temp_dir("mlcycle-bench-cli-") as tmp:
        env = _env(
            MLCYCLE_TRACKING_URI=f"sqlite:///{tmp / 'mlcycle.db'}",
            MLCYCLE_ARTIFACT_URI=str(tmp / "artifacts"),
            MLFLOW_TRACKING_URI=f"sqlite:///{tmp / 'mlflow.db'}",
        )
        # the stores exist before the clock starts: a cold process, not a new store
        subprocess.run(
            [_script("mlcycle"), "experiments", "create", "X"],
            env=env,
            capture_output=True,
            check=True,
        )
        subprocess.run(
            [_script("mlflow"), "experiments", "create", "-n", "X"],
            env=env,
            capture_output=True,
            check=True,
        )
        ours = _timing(lambda: _run([_script("mlcycle"), "runs", "list", "X"], env), sizes.reps)
        theirs = _timing(
            lambda: _run([_script("mlflow"), "runs", "list", "--experiment-id", "1"], env),
            sizes.reps,
        )
        helps = _timing(lambda: _run([_script("mlflow"), "--help"], env), sizes.reps)
    log(
        f"    mlcycle runs list X: {ours.text()}; {cpu_text('mlcycle runs')}\n"
        f"    mlflow runs list: {theirs.text()}; {cpu_text('mlflow runs')}\n"
        f"    mlflow --help: {helps.text()}"
    )
    return Result(
        name="runs_list_wall",
        what="`mlcycle runs list X` on a SQLite store, a fresh process (median)",
        unit="ms",
        value=ours.median,
        goal=1500.0,
        higher_is_better=False,
        mlflow=theirs.median,
        mlflow_note=f"`mlflow runs list`; `mlflow --help` {fmt(helps.median)} ms",
        details={
            "mlcycle": ours.summary(),
            "mlflow": theirs.summary(),
            "mlflow_help": helps.summary(),
        },
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def healthy_seconds(command: Sequence[str], path: str, env: dict[str, str], log_to: Path) -> float:
    """Launch ``command --port N`` and poll ``path`` every 10 ms: the seconds from the
    launch to the first 200 (the process is stopped afterwards)."""
    port = _free_port()
    url = f"http://{HOST}:{port}{path}"
    cpu = _children_cpu()
    with open(log_to, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            start_new_session=True,
        )
    try:
        with httpx.Client(timeout=1.0) as probe:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited: {log_to.read_text()[-2000:]}")
                with suppress(httpx.HTTPError):
                    if probe.get(url).status_code == 200:
                        return time.perf_counter() - started
                if time.perf_counter() - started > 120:
                    raise TimeoutError(f"{command[0]} not healthy: {log_to.read_text()[-2000:]}")
                time.sleep(0.01)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # to its exit: start-up plus a short shutdown (the child is reaped by wait)
        CPU_SECONDS.setdefault(_label(command), []).append(_children_cpu() - cpu)


def _healthy_timing(
    command: Sequence[str], path: str, env: dict[str, str], log_to: Path, reps: int
) -> Timing:
    healthy_seconds(command, path, env, log_to)  # warms the file cache and .pyc files
    return Timing([healthy_seconds(command, path, env, log_to) * 1000.0 for _ in range(reps)])


def bench_server_healthy(sizes: Sizes) -> Result:
    with temp_dir("mlcycle-bench-start-") as tmp:
        env = _env()
        ours = _healthy_timing(
            [
                _script("mlcycle"),
                "server",
                "--host",
                HOST,
                "--tracking-uri",
                f"sqlite:///{tmp / 'mlcycle.db'}",
                "--artifact-uri",
                str(tmp / "artifacts"),
            ],
            "/health",
            env,
            tmp / "mlcycle.log",
            sizes.reps,
        )
        theirs = _healthy_timing(
            [
                _script("mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{tmp / 'mlflow.db'}",
                "--default-artifact-root",
                str(tmp / "mlartifacts"),
                "--host",
                HOST,
                "--workers",
                "1",
            ],
            "/health",
            env,
            tmp / "mlflow.log",
            sizes.reps,
        )
    log(
        f"    mlcycle server: {ours.text()}; {cpu_text('mlcycle server')} (to exit)\n"
        f"    mlflow server: {theirs.text()}; {cpu_text('mlflow server')} (to exit; its "
        "workers are child processes, counted once reaped)"
    )
    return Result(
        name="server_healthy",
        what="`mlcycle server` (SQLite store), launch to the first 200 on /health (median)",
        unit="ms",
        value=ours.median,
        goal=HEALTHY_GOAL_S * 1000.0,
        higher_is_better=False,
        mlflow=theirs.median,
        mlflow_note="`mlflow server --workers 1`, same",
        details={"mlcycle": ours.summary(), "mlflow": theirs.summary()},
    )


def _models(tmp: Path) -> tuple[Path, Path]:
    """The same small scikit-learn model saved by mlcycle and by MLflow."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import mlcycle

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=["a", "b", "c", "d"])
    y = (X["a"] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    mlcycle.models.save(model, tmp / "mlcycle-model", input_example=X.head(5))
    import mlflow.sklearn

    mlflow.sklearn.save_model(model, str(tmp / "mlflow-model"), input_example=X.head(5))
    return tmp / "mlcycle-model", tmp / "mlflow-model"


def bench_serving_healthy(sizes: Sizes) -> Result:
    with temp_dir("mlcycle-bench-start-") as tmp:
        ours_model, theirs_model = _models(tmp)
        env = _env(
            MLCYCLE_TRACKING_URI=f"sqlite:///{tmp / 'mlcycle.db'}",
            MLCYCLE_ARTIFACT_URI=str(tmp / "artifacts"),
        )
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        ours = _healthy_timing(
            [_script("mlcycle"), "serve", str(ours_model)],
            "/ping",
            env,
            tmp / "mlcycle.log",
            sizes.reps,
        )
        theirs = _healthy_timing(
            [
                _script("mlflow"),
                "models",
                "serve",
                "-m",
                str(theirs_model),
                "--env-manager",
                "local",
                "--workers",
                "1",
                "--host",
                HOST,
            ],
            "/ping",
            env,
            tmp / "mlflow.log",
            sizes.reps,
        )
    log(
        f"    mlcycle serve: {ours.text()}; {cpu_text('mlcycle serve')} (to exit)\n"
        f"    mlflow models serve: {theirs.text()}; {cpu_text('mlflow models')} (to exit)"
    )
    return Result(
        name="serving_healthy",
        what="`mlcycle serve MODEL` (scikit-learn), launch to the first 200 on /ping (median)",
        unit="ms",
        value=ours.median,
        goal=HEALTHY_GOAL_S * 1000.0,
        higher_is_better=False,
        mlflow=theirs.median,
        mlflow_note="`mlflow models serve --env-manager local`, same model",
        details={"mlcycle": ours.summary(), "mlflow": theirs.summary()},
    )


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "help_imports": bench_help_imports,
    "help_wall": bench_help_wall,
    "runs_list_wall": bench_runs_list_wall,
    "server_healthy": bench_server_healthy,
    "serving_healthy": bench_serving_healthy,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``cli.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
