"""The writer's retry budget comes from settings: a server restarting under load (5-11 s
before it answers) is waited for when the budget allows it, and given up on otherwise."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import mlcycle
from mlcycle.errors import RemoteError
from tests.server.live import ServerProcess, free_port


def test_settings_read_the_budget_and_refuse_nonsense() -> None:
    settings = mlcycle.Settings.from_env(
        {"MLCYCLE_WRITER_RETRY_S": "90", "MLCYCLE_WRITER_BACKOFF_MAX_S": "5"}
    )
    assert (settings.writer_retry_s, settings.writer_backoff_max_s) == (90.0, 5.0)
    assert mlcycle.Settings.from_env({}).writer_retry_s == 10.0
    with pytest.raises(mlcycle.errors.InvalidInputError, match="MLCYCLE_WRITER_RETRY_S"):
        mlcycle.Settings.from_env({"MLCYCLE_WRITER_RETRY_S": "-1"})


@pytest.mark.slow
def test_a_late_server_is_waited_for_within_the_budget(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(
        f"sqlite:///{tmp_path / 's.db'}", tmp_path / "a", tmp_path / "log", port=port
    )
    url = f"http://127.0.0.1:{port}"
    short = mlcycle.Settings.from_env(
        {"MLCYCLE_TRACKING_URI": url, "MLCYCLE_WRITER_RETRY_S": "0.3"}
    )
    with mlcycle.Client(settings=short) as client, pytest.raises(RemoteError):
        client.create_experiment("nobody-listens")
    long = mlcycle.Settings.from_env({"MLCYCLE_TRACKING_URI": url, "MLCYCLE_WRITER_RETRY_S": "300"})
    starter = threading.Timer(2.0, server.start)
    starter.start()
    try:
        with mlcycle.Client(settings=long) as client:
            assert client.create_experiment("waited-for").name == "waited-for"
    finally:
        starter.join()
        server.close()
