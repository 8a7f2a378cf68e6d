"""``run.log_model(..., register=...)`` registers the model, or leaves nothing behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
from mlcycle.backends import Capability
from mlcycle.entities import ModelVersion
from mlcycle.errors import CapabilityUnavailableError, InvalidInputError
from mlcycle.models.info import MODELS_TAG
from mlcycle.remote import RemoteBackend
from tests.models._models import FEATURES, churn_frame, churn_pipeline
from tests.server.live import ServerProcess

pytestmark = pytest.mark.artifacts


def _nothing_logged(client: mlcycle.Client, run_id: str) -> None:
    run = client.get_run(run_id)
    assert MODELS_TAG not in run.tags
    assert [a.path for a in client.list_artifacts(run_id) if a.path.startswith("model")] == []


@pytest.fixture(params=["store", "server"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[mlcycle.Client]:
    """A client of a SQLite store, or of a server process (with only its URI)."""
    if request.param == "server":
        server: ServerProcess = request.getfixturevalue("remote_server")
        server.reset()
        made = mlcycle.Client(server.url, str(tmp_path / "client-artifacts"))
    else:
        made = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    yield made
    made.close()


def test_register_makes_the_next_version(client: mlcycle.Client) -> None:
    frame = churn_frame(60)
    with client.start_run("churn", capture_environment=False) as run:
        info = run.log_model(
            churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3), register="churn"
        )
    assert isinstance(info.registered_version, ModelVersion)
    assert (info.registered_version.name, info.registered_version.version) == ("churn", 1)
    assert json.loads(client.get_run(run.id).tags[MODELS_TAG])[0]["name"] == "model"
    assert client.registry.get_version("churn", 1).run_id == run.id


def test_a_name_the_registry_refuses_is_refused_before_uploading(
    client: mlcycle.Client,
) -> None:
    frame = churn_frame(60)
    run = client.start_run("churn", capture_environment=False)
    with pytest.raises(InvalidInputError, match="invalid registered model name 'a/b'"):
        run.log_model(churn_pipeline(frame), "model", register="a/b")
    run.end()
    _nothing_logged(client, run.id)
    assert client.registry.list_models() == []


@pytest.mark.slow
def test_a_backend_without_a_registry_refuses_before_uploading(
    remote_server: ServerProcess,
) -> None:
    """A tracking-only backend (here the server's tracking API alone): the refusal comes
    from the backend, before the model's files go up."""
    tracking = RemoteBackend(remote_server.url)
    client = mlcycle.Client(remote_server.url, backend=tracking)
    assert not client.backend.supports(Capability.REGISTRY)
    frame = churn_frame(60)
    run = client.start_run("churn-remote", capture_environment=False)
    with pytest.raises(CapabilityUnavailableError, match="model registry not available"):
        run.log_model(churn_pipeline(frame), "model", register="churn")
    run.end()
    _nothing_logged(client, run.id)
    client.close()
    tracking.close()
