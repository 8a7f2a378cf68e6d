"""SIGTERM (what Kubernetes, Slurm and systemd send) ends a training process's run as
KILLED with every logged point stored, and the process exits with SIGTERM's status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mlcycle
from mlcycle.entities import RunStatus

TRAIN = """
import sys, time, mlcycle
{open}
print(run.id, flush=True)
step = 0
while True:
    run.log_metric("loss", 1.0 / (step + 1), step=step)
    if step == 50:
        run.flush()
    print(step, flush=True)  # logged: must be stored once the run has ended
    step += 1
    time.sleep(0.002)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "open_run",
    [
        "with mlcycle.start_run() as run:\n    pass\nrun = mlcycle.start_run()",
        "run = mlcycle.start_run()",
    ],
    ids=["after-a-with-block", "bare"],
)
def test_sigterm_ends_the_run_killed_with_every_logged_point(tmp_path: Path, open_run: str) -> None:
    store = f"sqlite:///{tmp_path / 'm.db'}"
    env = {
        **os.environ,
        "MLCYCLE_TRACKING_URI": store,
        "MLCYCLE_ARTIFACT_URI": str(tmp_path / "a"),
    }
    script = TRAIN.format(open=textwrap.dedent(open_run))
    with subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        run_id = proc.stdout.readline().strip()
        last = -1
        while last < 100:
            last = int(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate()
    printed = [int(line) for line in out.split()]
    last = max([last, *printed])
    assert proc.returncode == -signal.SIGTERM, err
    assert "Traceback" not in err, err
    with mlcycle.Client(store, str(tmp_path / "a")) as client:
        run = client.get_run(run_id)
        assert run.status is RunStatus.KILLED
        assert "SIGTERM" in (run.error or "")
        steps = client.get_metric_history(run_id, "loss").steps.tolist()
    assert steps[: last + 1] == list(range(last + 1))  # no point printed as logged is lost
