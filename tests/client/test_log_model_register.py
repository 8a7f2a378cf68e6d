"""``run.log_model(..., register=...)`` registers the model, or leaves nothing behind."""

from __future__ import annotations

import json
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


def _nothing_logged(client: mlcycle.Client, run_id: str) -> None:
    run = client.get_run(run_id)
    assert MODELS_TAG not in run.tags
    assert [a.path for a in client.list_artifacts(run_id) if a.path.startswith("model")] == []


def test_register_makes_the_next_version(tmp_path: Path) -> None:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    frame = churn_frame(60)
    with client.start_run("churn", capture_environment=False) as run:
        info = run.log_model(
            churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3), register="churn"
        )
    assert isinstance(info.registered_version, ModelVersion)
    assert (info.registered_version.name, info.registered_version.version) == ("churn", 1)
    assert json.loads(client.get_run(run.id).tags[MODELS_TAG])[0]["name"] == "model"
    assert client.registry.get_version("churn", 1).run_id == run.id
    client.close()


def test_a_name_the_registry_refuses_is_refused_before_uploading(tmp_path: Path) -> None:
    client = mlcycle.Client(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path / "artifacts"))
    frame = churn_frame(60)
    run = client.start_run("churn", capture_environment=False)
    with pytest.raises(InvalidInputError, match="invalid registered model name 'a/b'"):
        run.log_model(churn_pipeline(frame), "model", register="a/b")
    run.end()
    _nothing_logged(client, run.id)
    assert client.registry.list_models() == []
    client.close()


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
