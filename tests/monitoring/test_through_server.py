"""Monitors over ``mlcycle server``: a client with only the server's URI creates a
monitor on a deployment whose prediction log it wrote through the server; the server's
own scheduler (``mlcycle server --scheduler``) runs it, and so do ``mlcycle monitors
run`` and a :class:`~mlcycle.monitoring.Scheduler` driven from the client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
import mlcycle.monitoring as mon
from tests.cli.conftest import Cli
from tests.models._models import churn_frame
from tests.monitoring._setup import DEPLOYMENT, deploy_churn, log_predictions, shifted
from tests.monitoring.test_scheduler import _CliServer
from tests.server.live import ServerProcess

pytestmark = pytest.mark.slow

DEADLINE_S = 120.0  # only so a broken scheduler fails instead of hanging the suite


@pytest.fixture
def scheduling_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = _CliServer(
        f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "artifacts", tmp_path / "server.log"
    )
    server.start()
    yield server
    server.stop()


def test_the_servers_scheduler_runs_a_monitor_made_by_a_remote_client(
    scheduling_server: ServerProcess, tmp_path: Path
) -> None:
    with mlcycle.Client(scheduling_server.url, str(tmp_path / "client")) as remote:
        setup = deploy_churn(remote, train_rows=500)
        now = int(time.time() * 1000)
        log_predictions(setup, shifted(churn_frame(150, seed=5)), start_ms=now - 60_000)
        mon.create("every-1s", DEPLOYMENT, schedule="1s", client=remote)
        start = time.monotonic()
        while not mon.results("every-1s", client=remote):
            assert time.monotonic() - start < DEADLINE_S, scheduling_server.log()
            time.sleep(0.1)
        first = mon.results("every-1s", client=remote)[0]
    assert first.rows == 150
    assert first.status is mon.ResultStatus.ISSUES  # tenure and charges drifted
    # the log went to the server's artifact store, not the client's folder
    assert list(Path(scheduling_server.artifact_uri).glob("prediction-logs/**/*.parquet"))
    assert not (tmp_path / "client" / "prediction-logs").exists()


def test_monitors_run_and_a_client_side_scheduler_over_a_server(
    remote_server: ServerProcess, tmp_path: Path
) -> None:
    """``mlcycle monitors run`` (cron) and ``Scheduler(client.monitoring)`` with only the
    server's URI: the runs happen on the server, over its copy of the log."""
    remote_server.reset()
    with mlcycle.Client(remote_server.url, str(tmp_path / "client")) as remote:
        setup = deploy_churn(remote, train_rows=500)
        now = int(time.time() * 1000)
        log_predictions(setup, churn_frame(120, seed=5), start_ms=now - 60_000)
        mon.create("by-hand", DEPLOYMENT, client=remote)
        mon.create("every-1s", DEPLOYMENT, schedule="1s", client=remote)

        cli = Cli(tmp_path / "cli")
        cli.tracking_uri = remote_server.url  # the server's URI, nothing else
        ran = cli("monitors", "run", "by-hand", "--json")
        assert ran.exit_code == 0, ran
        assert [r["monitor"] for r in ran.json()] == ["by-hand"]
        assert ran.json()[0]["rows"] == 120

        scheduler = mon.Scheduler(remote.monitoring, interval_s=0.1).start()
        try:
            start = time.monotonic()
            while len(mon.results("every-1s", client=remote)) < 2:
                assert time.monotonic() - start < DEADLINE_S
                time.sleep(0.1)
        finally:
            scheduler.stop()
        found = mon.results("every-1s", client=remote)
    assert found[0].rows == 120
    assert found[0].status is not mon.ResultStatus.FAILED
    assert found[1].created_at - found[0].created_at >= 1000  # one run per schedule slot
