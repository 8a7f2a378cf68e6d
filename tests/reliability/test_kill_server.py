"""kill -9 of the *server* while a client logs through it, on both stores: the client's
writer retries across the restart (``MLCYCLE_WRITER_RETRY_S``), and every point it saw
acknowledged (``flush()`` returned), before and after the kill, is stored exactly once.
Counts are printed (``pytest -s``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import mlcycle
from tests.server.live import ServerProcess

WRITER = """
import mlcycle
run = mlcycle.start_run(experiment="reliability")
print(run.id, flush=True)
step = 0
while True:
    run.log_metric("loss", float(step), step=step)
    step += 1
    if step % 20 == 0:
        run.flush()  # acknowledged: these points must survive the server's kill -9
        print(step, flush=True)
"""


@pytest.mark.slow
def test_kill9_of_the_server_loses_no_acknowledged_point(store_url: str, tmp_path: Path) -> None:
    artifacts = tmp_path / "a"
    server = ServerProcess(store_url, artifacts, tmp_path / "server.log")
    server.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")},
        "MLCYCLE_TRACKING_URI": server.url,
        "MLCYCLE_WRITER_RETRY_S": "180",  # longer than a restart on a busy machine
    }
    restarts = 0
    try:
        with subprocess.Popen(
            [sys.executable, "-c", WRITER], env=env, stdout=subprocess.PIPE, text=True
        ) as writer:
            assert writer.stdout is not None
            run_id = writer.stdout.readline().strip()
            acknowledged = 0
            for target in (100, 200):  # kill the server twice while the client writes
                while acknowledged < target:
                    acknowledged = int(writer.stdout.readline())
                assert server.stop(signal.SIGKILL) == -signal.SIGKILL
                restarts += 1
                server = ServerProcess(
                    store_url, artifacts, tmp_path / "server.log", port=server.port
                )
                server.start()
            while acknowledged < 300:  # the writer goes on through the new server
                acknowledged = int(writer.stdout.readline())
            writer.kill()
            writer.wait()
    finally:
        server.close()
    with mlcycle.Client(store_url, str(artifacts)) as client:
        steps = client.get_metric_history(run_id, "loss").steps.tolist()
    lost = set(range(acknowledged)) - set(steps)
    duplicated = len(steps) - len(set(steps))
    print(
        f"server kill -9 x{restarts}: {acknowledged} acknowledged, {len(steps)} stored, "
        f"{len(lost)} lost, {duplicated} duplicated"
    )
    assert not lost
    assert duplicated == 0
