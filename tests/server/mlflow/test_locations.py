"""Where MLflow clients are told their artifacts are, against a live ``mlcycle server``:
an experiment's ``artifact_location`` as given, a logged model whose source run is not on
this server, and the artifact proxy's files outside any run in a folder of their own
(``--artifacts-destination``, laid out as ``mlflow server`` lays it out)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from tests.server.live import ServerProcess
from tests.server.mlflow.conftest import Target

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_experiment_keeps_the_artifact_location_its_creator_gave(tracking: Target) -> None:
    client = MlflowClient()
    relative = unique("my_location")
    experiment_id = client.create_experiment(unique("loc"), artifact_location=relative)
    # MLflow makes a relative local path absolute against the server's working directory
    # (the server process here runs in the tests' working directory)
    expected = os.path.abspath(relative)
    assert client.get_experiment(experiment_id).artifact_location == expected
    name = unique("s3loc")
    s3_id = client.create_experiment(name, artifact_location="s3://bucket/team/exp")
    by_name = client.get_experiment_by_name(name)
    assert by_name is not None
    assert by_name.artifact_location == "s3://bucket/team/exp"
    found = {e.experiment_id: e.artifact_location for e in client.search_experiments()}
    assert found[experiment_id] == expected
    assert found[s3_id] == "s3://bucket/team/exp"
    # an experiment created without one keeps the server's proxy location
    plain = client.create_experiment(unique("plain"))
    assert client.get_experiment(plain).artifact_location == f"mlflow-artifacts:/{plain}"

    # the runs' artifacts still go to the server's artifact store, through the proxy
    run = client.create_run(experiment_id)
    assert run.info.artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run.info.run_id}/artifacts"
    client.log_text(run.info.run_id, "hello", "notes/a.txt")
    assert [a.path for a in client.list_artifacts(run.info.run_id, "notes")] == ["notes/a.txt"]
    assert [a.path for a in tracking.remote.list_artifacts(run.info.run_id)] == ["notes/a.txt"]


def test_bad_artifact_locations_are_refused_naming_the_rule(tracking: Target) -> None:
    with httpx.Client(base_url=tracking.url, timeout=30) as http:
        cases = {
            "runs:/abc/model": "Artifact location cannot be a runs:/ URI",
            "s3://bucket/x#frag": "'artifact_location' URL can't include fragments or params.",
            "/tmp/" + "x" * 2100: "cannot be greater than 2048 characters",
        }
        for location, message in cases.items():
            name = unique("bad")
            body = {"name": name, "artifact_location": location}
            response = http.post(f"{API}/experiments/create", json=body)
            assert response.status_code == 400, response.text
            assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
            assert message in response.json()["message"]
            # nothing half-written: the experiment was not created
            missing = http.get(f"{API}/experiments/get-by-name", params={"experiment_name": name})
            assert missing.status_code == 404


def test_logged_model_whose_source_run_is_not_on_this_server(
    tracking: Target, tmp_path: Path
) -> None:
    client = MlflowClient()
    experiment_id = client.create_experiment(unique("lm"))
    model = client.create_logged_model(experiment_id, source_run_id="123", name="elsewhere")
    loaded = client.get_logged_model(model.model_id)
    assert loaded.source_run_id == "123"
    assert loaded.artifact_location.startswith("mlflow-artifacts:/")
    # its files go to the MLflow artifact area and come back
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    client.log_model_artifact(model.model_id, str(tmp_path / "MLmodel"))
    assert [a.path for a in client.list_logged_model_artifacts(model.model_id)] == ["MLmodel"]
    fetched = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{model.model_id}", dst_path=str(tmp_path / "out")
    )
    assert (Path(fetched) / "MLmodel").read_text() == "flavors: {}\n"
    found = client.search_logged_models([experiment_id], filter_string="source_run_id = '123'")
    assert [m.model_id for m in found] == [model.model_id]

    # a source run of this server keeps the model's files among that run's artifacts
    run_id = client.create_run(experiment_id).info.run_id
    local = client.create_logged_model(experiment_id, source_run_id=run_id, name="here")
    assert local.artifact_location.startswith(f"mlflow-artifacts:/{experiment_id}/{run_id}/")

    # an ID longer than any run ID is refused, naming the field
    with pytest.raises(MlflowException, match="source_run_id"):
        client.create_logged_model(experiment_id, source_run_id="r" * 40)


@pytest.fixture
def destination_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Path]]:
    destination = tmp_path / "mlartifacts"
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'server.db'}",
        tmp_path / "artifacts",
        tmp_path / "server.log",
        extra_args=("--artifacts-destination", str(destination)),
    )
    server.start()
    try:
        yield server, destination
    finally:
        server.close()


def test_artifacts_destination_holds_proxy_files_in_mlflows_layout(
    destination_server: tuple[ServerProcess, Path], tmp_path: Path
) -> None:
    server, destination = destination_server
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.put(f"{PROXY}/a.txt", content=b"0").status_code == 200
        assert http.put(f"{PROXY}/dir/b.txt", content=b"1").status_code == 200
        # on disk where `mlflow server --artifacts-destination` puts them
        assert (destination / "a.txt").read_text() == "0"
        assert (destination / "dir" / "b.txt").read_text() == "1"
        assert http.get(f"{PROXY}/dir/b.txt").content == b"1"
        assert http.get(PROXY).json() == {
            "files": [
                {"path": "a.txt", "is_dir": False, "file_size": 1},
                {"path": "dir", "is_dir": True},
            ]
        }
        assert http.delete(f"{PROXY}/dir").status_code == 200
        assert not (destination / "dir" / "b.txt").exists()
        assert http.get(f"{PROXY}/dir/b.txt").status_code == 404

    # a run's artifacts stay in the server's artifact store (and mlcycle's index)
    client = MlflowClient(server.url)
    run_id = client.create_run(client.create_experiment(unique("dest"))).info.run_id
    client.log_text(run_id, "x", "model/notes.txt")
    assert not any(p.name == "notes.txt" for p in destination.rglob("*"))
    assert (tmp_path / "artifacts" / "runs" / run_id / "model" / "notes.txt").read_text() == "x"
