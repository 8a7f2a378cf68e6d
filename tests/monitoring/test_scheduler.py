"""Running monitors on their schedules: due monitors only, each slot once even with two
schedulers on one store, and the background thread (``mlcycle server --scheduler``)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

import mlcycle
import mlcycle.monitoring as mon
from tests.models._models import churn_frame
from tests.monitoring._setup import DEPLOYMENT, Setup, deploy_churn, log_predictions
from tests.server.live import ServerProcess, free_port

MINUTE = 60_000
DEADLINE_S = 120.0  # only so a broken scheduler fails instead of hanging the suite


def test_run_due_runs_scheduled_monitors_when_their_time_comes(deployed: Setup) -> None:
    now = int(time.time() * 1000)
    log_predictions(deployed, churn_frame(100, seed=5), start_ms=now - 10 * MINUTE)
    mon.create("every-15m", DEPLOYMENT, schedule="15m")
    mon.create("by-hand", DEPLOYMENT)
    service = deployed.client.monitoring
    assert [r.monitor for r in service.run_due(now=now)] == ["every-15m"]
    assert service.run_due(now=now + 5 * MINUTE) == []  # not due yet
    assert [r.monitor for r in service.run_due(now=now + 15 * MINUTE)] == ["every-15m"]
    everything = service.run_due(now=now + 16 * MINUTE, every=True)
    assert [r.monitor for r in everything] == ["by-hand"]  # every-15m ran a minute ago
    assert len(mon.results("every-15m")) == 2


def test_two_schedulers_on_one_store_run_a_slot_once(deployed: Setup) -> None:
    now = int(time.time() * 1000)
    log_predictions(deployed, churn_frame(100, seed=5), start_ms=now - 10 * MINUTE)
    mon.create("every-15m", DEPLOYMENT, schedule="15m")
    settings = deployed.client.settings
    with mlcycle.Client(settings=settings) as other:
        first = deployed.client.monitoring.run_due(now=now)
        second = other.monitoring.run_due(now=now)
    assert len(first) + len(second) == 1
    assert len(mon.results("every-15m")) == 1


def test_the_background_scheduler_runs_due_monitors(deployed: Setup) -> None:
    now = int(time.time() * 1000)
    log_predictions(deployed, churn_frame(100, seed=5), start_ms=now - 10 * MINUTE)
    mon.create("every-1s", DEPLOYMENT, schedule="1s")
    scheduler = mon.Scheduler(deployed.client.monitoring, interval_s=0.05).start()
    try:
        start = time.monotonic()
        while len(mon.results("every-1s")) < 2 and time.monotonic() - start < DEADLINE_S:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    found = mon.results("every-1s")
    assert len(found) >= 2
    assert found[0].rows == 100
    assert found[0].status is not mon.ResultStatus.FAILED
    assert found[1].created_at - found[0].created_at >= 1000  # one run per schedule slot


@pytest.mark.slow
def test_mlcycle_server_scheduler_flag_runs_monitors(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'sched.db'}"
    artifacts = tmp_path / "artifacts"
    with mlcycle.Client(uri, str(artifacts)) as client:
        setup = deploy_churn(client)
        log_predictions(setup, churn_frame(100, seed=5), start_ms=int(time.time() * 1000) - 60_000)
        mon.create("every-1s", DEPLOYMENT, schedule="1s", client=client)
    server = _CliServer(uri, artifacts, tmp_path / "server.log")
    server.start()
    try:
        with mlcycle.Client(uri, str(artifacts)) as client:
            start = time.monotonic()
            while not mon.results("every-1s", client=client):
                assert time.monotonic() - start < DEADLINE_S, server.log()
                time.sleep(0.1)
            (first, *_) = mon.results("every-1s", client=client)
        assert first.rows == 100
        assert first.status is not mon.ResultStatus.FAILED
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    finally:
        server.stop()
    assert "monitor scheduler on" in server.log()


class _CliServer(ServerProcess):
    """``mlcycle server --scheduler`` (the CLI, which owns the flag) as a subprocess."""

    def start(self) -> float:
        import os
        import subprocess
        import sys

        from tests.server.live import wait_healthy

        env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "mlcycle.cli.app",
            "--tracking-uri",
            self.tracking_uri,
            "--artifact-uri",
            self.artifact_uri,
            "server",
            "--port",
            str(self.port),
            "--scheduler",
            "--scheduler-interval",
            "0.2",
        ]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=self._log, env=env)
        process = self.process
        return wait_healthy(self.url, alive=lambda: process.poll() is None)
