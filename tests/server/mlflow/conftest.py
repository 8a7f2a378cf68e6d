"""The unmodified ``mlflow`` client against a real ``mlcycle server`` process.

``tracking`` points MLflow's client at the session's live server on each store (SQLite,
and PostgreSQL when ``MLCYCLE_TEST_POSTGRES_URL`` is set), through ``MLFLOW_TRACKING_URI``
as its users would; ``local`` is an ``mlcycle.Client`` over the same store and artifact
folder, to read back what the MLflow client wrote (and write what it should read).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import mlcycle
from tests.server.live import ServerProcess


@dataclass(frozen=True)
class Target:
    """The live server and the ``mlcycle`` clients of it."""

    server: ServerProcess
    remote: mlcycle.Client  # over HTTP, as a user of the server
    local: mlcycle.Client  # over the server's store and artifacts (registry reads)

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def tracking(live: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", live.url)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # a failure shows at once
    monkeypatch.setenv("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    mlflow.set_tracking_uri(live.url)
    remote = mlcycle.Client(live.url)
    local = mlcycle.Client(live.tracking_uri, live.artifact_uri)
    try:
        yield Target(live, remote, local)
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
        remote.close()
        local.close()
