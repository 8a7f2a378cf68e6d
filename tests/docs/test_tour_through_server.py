"""The README's five-minute tour runs unchanged against a real ``mlcycle server``.

The same page runner as :mod:`tests.docs.test_code_blocks` (``python -m tests.docs.blocks
README.md`` in an empty folder), with one change a team member makes:
``MLCYCLE_TRACKING_URI`` points at a server process, whose store is SQLite or PostgreSQL.
Every Python block and every ``mlcycle`` shell line of the tour then goes through the
server's HTTP API; nothing in the folder is a store.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
from mlcycle.store.sql.store import open_store
from tests.docs.test_code_blocks import ROOT, _env
from tests.server.live import ServerProcess, empty_store

README = ROOT / "README.md"


@pytest.fixture(params=["sqlite", "postgres"])
def tour_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server process on an empty store of each kind, its artifacts in a temp folder."""
    root = tmp_path / "server"
    root.mkdir()
    if request.param == "sqlite":
        store_url = f"sqlite:///{root / 'server.db'}"
    else:
        store_url = str(request.getfixturevalue("postgres_url"))
        store = open_store(store_url)
        empty_store(store)
        store.close()
    server = ServerProcess(store_url, root / "artifacts", root / "server.log")
    server.start()
    yield server
    server.close()


@pytest.mark.slow
@pytest.mark.timeout(1500)  # trains, serves and monitors through the server: a hang ceiling
def test_readme_tour_runs_unchanged_through_a_server(
    tour_server: ServerProcess, tmp_path: Path
) -> None:
    reader = tmp_path / "reader"
    reader.mkdir()
    env = {**_env(), "MLCYCLE_TRACKING_URI": tour_server.url}
    done = subprocess.run(
        [sys.executable, "-m", "tests.docs.blocks", str(README)],
        cwd=reader,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, (
        f"{done.stdout[-4000:]}\n{done.stderr[-6000:]}\nserver log:\n{tour_server.log()[-3000:]}"
    )
    assert "OK README.md" in done.stdout
    # Beside the reader, only the tour's own output and the client's cache of downloaded
    # model files: every record, file and prediction log is on the server.
    written = [p.relative_to(reader) for p in reader.rglob("*") if p.is_file()]
    cache = Path(".mlcycle", "artifacts", ".cache")
    assert [p for p in written if cache not in p.parents] == [Path("preds.parquet")]
    logs = Path(tour_server.artifact_uri, "prediction-logs", "deployment=cancer")
    assert list(logs.rglob("*.parquet")), "the served predictions were not logged on the server"
    behind = mlcycle.Client(tour_server.tracking_uri, tour_server.artifact_uri)
    try:
        assert behind.get_experiment("cancer").name == "cancer"
        assert behind.datasets.get("cancer-test").name == "cancer-test"
        versions = behind.registry.list_versions("cancer")
        assert len(versions) == 3
        assert [v for v in versions if "champion" in v.aliases]
        assert behind.deployments.get("cancer").name == "cancer"
        assert [m.name for m in behind.monitoring.list_monitors()] == ["cancer-drift"]
    finally:
        behind.close()
