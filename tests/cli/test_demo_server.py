"""``mlcycle demo --fast --tracking-uri http://...``: the whole lifecycle runs through a
real ``mlcycle server`` process on SQLite (its serving process included), everything
lands in the server's store and artifact folder, and the client's folder gets no
prediction log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
import mlcycle.deployments
import mlcycle.monitoring
import mlcycle.registry
from mlcycle.cli import demo
from mlcycle.cli.demo.shared import DEPLOYMENT, MONITOR
from tests.cli.conftest import Cli
from tests.server.live import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # a ceiling against hangs


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    root = tmp_path / "server"
    root.mkdir()
    process = ServerProcess(
        f"sqlite:///{root / 'server.db'}", root / "artifacts", root / "server.log"
    )
    process.start()
    yield process
    process.stop()


def test_demo_runs_through_a_server(
    server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli = Cli(tmp_path / "client")
    # The spelling: the demo's own --tracking-uri, over the global option's store.
    outcome = cli.ok("demo", "--fast", "--tracking-uri", server.url)
    assert f"Store: {server.url}" in outcome.stdout
    assert "audit verify" in outcome.stdout
    served = Path(server.artifact_uri)
    assert list(served.glob(f"prediction-logs/deployment={DEPLOYMENT}/hour=*/*.parquet"))
    assert list(served.glob("runs/**/model.json"))
    assert not (Path(cli.artifact_uri) / "prediction-logs").exists()
    with mlcycle.Client(server.url, cli.artifact_uri) as client:
        assert client.get_experiment(demo.EXPERIMENT).name == demo.EXPERIMENT
        champion = mlcycle.registry.get_version(demo.MODEL, alias=demo.ALIAS, client=client)
        assert champion.version >= 1
        assert mlcycle.monitoring.results(MONITOR, client=client)
        assert len(mlcycle.deployments.prediction_log(DEPLOYMENT, client=client)) > 0
