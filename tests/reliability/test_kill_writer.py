"""kill -9 of a writer during logging, on both stores: every point the writer had seen
acknowledged (``flush()`` returned) is stored exactly once; and concurrent writers of one
run lose nothing. Counts are printed (``pytest -s``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import mlcycle

WRITER = """
import sys, mlcycle
run = mlcycle.start_run(experiment="reliability")
print(run.id, flush=True)
step = 0
while True:
    run.log_metric("loss", float(step), step=step)
    step += 1
    if step % 25 == 0:
        run.flush()  # acknowledged: these points must survive a kill -9
        print(step, flush=True)
"""


@pytest.mark.slow
def test_kill9_of_a_writer_loses_no_acknowledged_point(store_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MLCYCLE_TRACKING_URI": store_url,
        "MLCYCLE_ARTIFACT_URI": str(tmp_path / "a"),
    }
    with subprocess.Popen(
        [sys.executable, "-c", WRITER], env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        acknowledged = 0
        while acknowledged < 200:
            acknowledged = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with mlcycle.Client(store_url, str(tmp_path / "a")) as client:
        steps = client.get_metric_history(run_id, "loss").steps.tolist()
    lost = set(range(acknowledged)) - set(steps)
    duplicated = len(steps) - len(set(steps))
    print(
        f"kill -9: {acknowledged} acknowledged, {len(steps)} stored, "
        f"{len(lost)} lost, {duplicated} duplicated"
    )
    assert not lost
    assert duplicated == 0


@pytest.mark.slow
def test_concurrent_writers_of_one_run(store_url: str, tmp_path: Path) -> None:
    with mlcycle.Client(store_url, str(tmp_path / "a")) as client:
        run = client.start_run("reliability")
        errors: list[BaseException] = []

        def write(worker: int) -> None:
            try:
                for step in range(200):
                    run.log_metric(f"w{worker}", float(step), step=step)
                    if step % 50 == 49:
                        run.log_params({f"p{worker}_{step}": step})
                run.flush()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        run.end()
        assert not errors, errors
        stored = {w: client.get_metric_history(run.id, f"w{w}").steps.tolist() for w in range(4)}
        params = client.get_run(run.id).params
    print(f"concurrent: {sum(len(s) for s in stored.values())} points, {len(params)} params")
    assert all(s == list(range(200)) for s in stored.values())
    assert len(params) == 16
