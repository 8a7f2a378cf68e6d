"""``mlcycle deployments serve NAME`` against ``mlcycle server``: two real processes.

The serving process is given only the server's URI (and a scratch folder of its own as
artifact root): it reads the deployment and the model files through the server, follows
alias moves, splits and rollbacks made through the server, writes its prediction log into
the server's artifact store, and stores feedback there; another client reads the log
back through the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

import mlcycle
from mlcycle.errors import NotFoundError
from tests.cli.conftest import Cli
from tests.server.live import ServerProcess
from tests.serving.conftest import churn_rows, log_churn
from tests.serving.live import ServeProcess

pytestmark = pytest.mark.slow

T = TypeVar("T")
WAIT_S = 120.0
NAME = "churn-remote"


def eventually(check: Callable[[], T | None], what: str) -> T:
    """Poll ``check`` until it returns neither None nor False (or fail naming ``what``)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found is not None and found is not False:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("server")
    process = ServerProcess(
        f"sqlite:///{root / 'server.db'}", root / "artifacts", root / "server.log"
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def remote(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A client of the server (its own artifact folder stays empty of logs)."""
    client = mlcycle.Client(server.url, str(tmp_path_factory.mktemp("client") / "artifacts"))
    yield client
    client.close()


def predict(url: str) -> httpx.Response:
    response = httpx.post(f"{url}/invocations", json={"dataframe_records": churn_rows(2)})
    assert response.status_code == 200, response.text
    return response


def test_serving_process_follows_the_server(
    server: ServerProcess, remote: mlcycle.Client, tmp_path: Path
) -> None:
    first, second = log_churn(remote, seed=0), log_churn(remote, seed=1)
    remote.registry.set_alias("churn", "champion", first)
    mlcycle.deployments.create(NAME, "models:/churn@champion", client=remote)
    local = tmp_path / "serving-artifacts"  # the serving machine's own folder
    serving = ServeProcess(
        ["deployments", "serve", NAME],
        tracking_uri=server.url,
        artifact_uri=local,
        log_path=tmp_path / "serve.log",
        trust=False,
    )
    with serving:
        answered = predict(serving.url)
        assert answered.headers["x-model-version"] == str(first)
        asked = answered.headers["x-request-id"]

        # an alias moved through the server: the serving process answers with the new one
        remote.registry.set_alias("churn", "champion", second)
        eventually(
            lambda: predict(serving.url).headers["x-model-version"] == str(second),
            "the serving process answers with the moved alias's version",
        )

        # a split, a canary and its rollback, made through the server
        def both() -> bool:
            seen = {predict(serving.url).headers["x-model-version"] for _ in range(30)}
            return seen == {str(first), str(second)}

        def only_second() -> bool:
            return all(
                predict(serving.url).headers["x-model-version"] == str(second) for _ in range(10)
            )

        halves = [(f"models:/churn/{first}", 50.0), (f"models:/churn/{second}", 50.0)]
        mlcycle.deployments.split(NAME, halves, client=remote)
        eventually(both, "both versions of the split answer")
        mlcycle.deployments.split(NAME, [("models:/churn@champion", 100.0)], client=remote)
        eventually(only_second, "after the split, the champion alone answers")
        mlcycle.deployments.canary(
            NAME, f"models:/churn/{first}", steps=[50, 100], interval="1h", client=remote
        )
        eventually(both, "the canary's first step answers with both versions")
        mlcycle.deployments.rollback(NAME, client=remote)
        eventually(only_second, "after the rollback the champion alone answers")

        # feedback through the serving process lands in the server's store
        done = httpx.post(
            f"{serving.url}/feedback",
            json=[{"request_id": asked, "label": 1}, {"request_id": "never-asked", "label": 0}],
        )
        assert done.json() == {"stored": 1, "unknown": ["never-asked"]}
        labels = mlcycle.deployments.feedback(NAME, client=remote)
        assert labels["request_id"].tolist() == [asked]

        # the prediction log is read back through the server, by another process
        def logged() -> Any:
            frame = mlcycle.deployments.prediction_log(NAME, client=remote)
            return frame if {first, second} <= set(frame["version"]) else None

        log = eventually(logged, "the prediction log holds both versions")
        assert asked in set(log["request_id"])
        assert {"input.tenure", "input.plan", "prediction"} <= set(log.columns)

    # written into the server's artifact store, nothing into the serving machine's
    assert list(Path(server.artifact_uri).glob("prediction-logs/deployment=*/hour=*/*.parquet"))
    assert not (local / "prediction-logs").exists()


def test_prediction_log_of_an_unknown_name_is_refused_alike(
    remote: mlcycle.Client, tmp_path: Path
) -> None:
    """The same NotFoundError, with the same message, as a local call gives."""
    local = mlcycle.Client(f"sqlite:///{tmp_path / 'local.db'}", str(tmp_path / "artifacts"))
    try:
        for client in (local, remote):
            version = log_churn(client, "near", seed=0)
            mlcycle.deployments.create("near-name", f"models:/near/{version}", client=client)
        with pytest.raises(NotFoundError) as here:
            mlcycle.deployments.prediction_log("near-nam", client=local)
    finally:
        local.close()
    with pytest.raises(NotFoundError) as there:
        mlcycle.deployments.prediction_log("near-nam", client=remote)
    assert str(there.value) == str(here.value)
    assert "near-name" in str(here.value)


def test_serving_an_unknown_deployment_is_refused_alike(
    server: ServerProcess, tmp_path: Path
) -> None:
    """Before anything listens, with the same one-line error as on a store."""
    local = Cli(tmp_path / "local")
    remote = Cli(tmp_path / "remote")
    remote.tracking_uri = server.url
    for cli in (local, remote):
        with cli.client() as client:
            version = log_churn(client, "zebra", seed=0)
            mlcycle.deployments.create("zebra-api", f"models:/zebra/{version}", client=client)
    here = local("deployments", "serve", "zebra-ap", "--port", "0").error_line()
    there = remote("deployments", "serve", "zebra-ap", "--port", "0").error_line()
    assert there == here
    assert here == "error: deployment 'zebra-ap' does not exist (did you mean 'zebra-api'?)"
