"""CLI start: ``mlcycle --help`` and ``mlcycle runs list X`` in a fresh process, against
``mlflow --help`` and ``mlflow runs list`` in the same run.

Two figures per command: the wall-clock time of the whole process (interpreter start,
imports, the work, exit), and the import time alone as ``python -X importtime`` reports it
(the sum of the top-level imports' cumulative times), which the goal is about: well under
0.3 s of imports for ``mlcycle --help``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import Result, Timing, fmt, log, run_benches, temp_dir

SUITE = "cli"
BENCHMARKS = ("help_imports", "help_wall", "runs_list_wall")

HELP_GOAL_S = 0.3

_MLCYCLE_HELP = "from mlcycle.cli.app import main\nmain(['--help'])"
_MLFLOW_HELP = "from mlflow.cli import cli\ncli(['--help'])"


@dataclass(frozen=True)
class Sizes:
    reps: int = 7


DEFAULT = Sizes()
QUICK = Sizes(reps=2)


def _run(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds one process takes, start to exit."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=False)
    return time.perf_counter() - started


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
    log(f"    mlcycle --help: {ours.text()}\n    mlflow --help: {theirs.text()}")
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
        f"    mlcycle runs list X: {ours.text()}\n    mlflow runs list: {theirs.text()}\n"
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


_BENCHES: dict[str, Callable[[Sizes], Result]] = {
    "help_imports": bench_help_imports,
    "help_wall": bench_help_wall,
    "runs_list_wall": bench_runs_list_wall,
}


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``cli.json``."""
    sizes = QUICK if quick else DEFAULT
    return run_benches(SUITE, _BENCHES, sizes, quick=quick, out_dir=out_dir, only=only)
