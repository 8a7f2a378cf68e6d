"""MLflow's own client against an ``--auth`` server: MLFLOW_TRACKING_TOKEN, or
MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (the token), and the protected
champion alias refused with PERMISSION_DENIED until a second person approves."""

from __future__ import annotations

import httpx
import pytest

import mlcycle
from tests.registry.conftest import log_version
from tests.server.authlive import AuthServer

mlflow = pytest.importorskip("mlflow")

_ENV = (
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    return monkeypatch


def test_mlflow_clients_authenticate(
    auth_server: AuthServer, clean_env: pytest.MonkeyPatch
) -> None:
    client = mlflow.MlflowClient(tracking_uri=auth_server.url)
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.search_experiments()
    clean_env.setenv("MLFLOW_TRACKING_TOKEN", auth_server.tokens["editor"])
    assert client.create_experiment("with-token")
    clean_env.delenv("MLFLOW_TRACKING_TOKEN")
    clean_env.setenv("MLFLOW_TRACKING_USERNAME", "viewer")
    clean_env.setenv("MLFLOW_TRACKING_PASSWORD", auth_server.tokens["viewer"])
    assert "with-token" in [e.name for e in client.search_experiments()]
    with pytest.raises(mlflow.exceptions.MlflowException, match="needs write"):
        client.create_experiment("viewer-may-not")


def test_mlflow_alias_on_a_protected_champion(auth_server: AuthServer) -> None:
    with mlcycle.Client(auth_server.server.tracking_uri, auth_server.server.artifact_uri) as local:
        log_version(local)
        log_version(local)
        local.registry.set_alias("churn", "champion", 1)
    body = {"name": "churn", "alias": "champion", "version": "2"}
    path = "/api/2.0/mlflow/registered-models/alias"
    with httpx.Client(base_url=auth_server.url, timeout=30) as api:
        refused = api.post(path, json=body, headers=auth_server.header("editor"))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error_code"] == "PERMISSION_DENIED"
        assert "approvals request alias churn 2" in refused.json()["message"]
        challenger = {**body, "alias": "challenger"}
        assert api.post(path, json=challenger, headers=auth_server.header("editor")).is_success


def test_mlflow_cannot_remove_a_protected_champion(auth_server: AuthServer) -> None:
    with mlcycle.Client(auth_server.server.tracking_uri, auth_server.server.artifact_uri) as local:
        log_version(local)
        local.registry.set_alias("churn", "champion", 1)
    editor = auth_server.header("editor")
    with httpx.Client(base_url=auth_server.url, timeout=30) as api:
        refused = api.request(
            "DELETE",
            "/api/2.0/mlflow/registered-models/alias",
            params={"name": "churn", "alias": "champion"},
            headers=editor,
        )
        assert refused.status_code == 403, refused.text
        assert "--action delete_alias" in refused.json()["message"]
        refused = api.request(
            "DELETE",
            "/api/2.0/mlflow/model-versions/delete",
            json={"name": "churn", "version": "1"},
            headers=editor,
        )
        assert refused.status_code == 403, refused.text
        renamed = api.post(
            "/api/2.0/mlflow/registered-models/rename",
            json={"name": "churn", "new_name": "churn2"},
            headers=editor,
        )
        assert renamed.is_success, renamed.text
        moved = api.post(
            "/api/2.0/mlflow/registered-models/alias",
            json={"name": "churn2", "alias": "champion", "version": "1"},
            headers=editor,
        )
        assert moved.status_code == 403, moved.text  # "champion" is protected for every model
    with mlcycle.Client(auth_server.server.tracking_uri, auth_server.server.artifact_uri) as local:
        assert local.registry.get_model("churn2").aliases == {"champion": 1}
