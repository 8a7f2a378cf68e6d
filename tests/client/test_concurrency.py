"""Several processes on one SQLite store; a process killed mid-logging."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlcycle

WRITER = textwrap.dedent(
    """
    import sys, mlcycle
    client = mlcycle.Client(sys.argv[1], sys.argv[2])
    with client.start_run("multi", name=f"proc-{sys.argv[3]}", capture_environment=False) as run:
        run.log_params({"proc": sys.argv[3]})
        for i in range(int(sys.argv[4])):
            run.log_metric("m", float(i))
            if i % 5000 == 0:
                run.flush()
    client.close()
    """
)


def test_eight_processes_lose_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'multi.db'}"
    art = str(tmp_path / "art")
    mlcycle.Client(db, art).create_experiment("multi")
    points = 20_000
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db, art, str(i), str(points)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    errors = [p.communicate(timeout=240)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    assert not any("locked" in e for e in errors)
    client = mlcycle.Client(db, art)
    runs = client.search_runs("multi")
    assert len(runs) == 8
    for run in runs:
        history = client.get_metric_history(run.id, "m")
        assert history.steps.tolist() == list(range(points))
        assert run.status is mlcycle.RunStatus.FINISHED


KILLED = textwrap.dedent(
    """
    import sys, mlcycle
    client = mlcycle.Client(sys.argv[1], sys.argv[2])
    run = client.start_run("kill", capture_environment=False)
    print(run.id, flush=True)
    i = 0
    while True:
        run.log_metric("m", float(i))
        i += 1
        if i % 1000 == 0:
            run.flush()
            print(i, flush=True)
    """
)


def test_kill_9_keeps_what_was_flushed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'kill.db'}"
    art = str(tmp_path / "art")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, db, art], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    flushed = 0
    deadline = time.monotonic() + 60
    while flushed < 20_000 and time.monotonic() < deadline:
        flushed = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    client = mlcycle.Client(db, art)
    history = client.get_metric_history(run_id, "m")
    assert len(history) >= flushed
    # every stored point is whole and in order: the store is consistent
    assert history.steps.tolist() == list(range(len(history)))
    assert history.values.tolist() == [float(i) for i in range(len(history))]
    assert client.get_run(run_id).status is mlcycle.RunStatus.RUNNING
