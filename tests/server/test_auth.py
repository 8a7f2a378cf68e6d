"""Auth on a live server (SQLite and PostgreSQL): 401 for missing, malformed, expired and
revoked tokens; 403 for a viewer writing, an editor approving and self-approval; basic
auth as MLflow clients send it; four eyes, audit verification and retirement over HTTP."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

import mlcycle
from mlcycle.errors import AuthenticationError, PermissionDeniedError
from tests.registry.conftest import log_version
from tests.server.authlive import AuthServer
from tests.server.conftest import error_of

G = "/api/v1/governance"


@pytest.fixture
def api(auth_server: AuthServer) -> Any:
    with httpx.Client(base_url=auth_server.url, timeout=30) as client:
        yield client


def _refused(response: httpx.Response, status: int, phrase: str) -> None:
    assert response.status_code == status, response.text
    error = error_of(response)
    assert phrase in error["message"], error


def test_health_probes_are_public_and_the_rest_is_not(
    auth_server: AuthServer, api: httpx.Client
) -> None:
    assert api.get("/health").status_code == 200
    assert api.get("/ready").status_code == 200
    for path in ("/api/v1/experiments", "/docs", "/metrics", "/no/such/route"):
        response = api.get(path)
        _refused(response, 401, "no token was sent")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["x-request-id"]


def test_bad_tokens_get_401(auth_server: AuthServer, api: httpx.Client) -> None:
    gov = auth_server.governance()
    expired = gov.users.create_token("editor")
    revoked = gov.users.create_token("editor")
    gov.users.revoke_token(revoked.token.id)
    with auth_server.store.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE api_tokens SET expires_at = 1 WHERE id = :id"), {"id": expired.token.id}
        )
    cases = {
        "Bearer nonsense": "malformed token",
        "Bearer " + "mlc_0123456789abcdef_" + "x" * 43: "no such token",
        f"Bearer {expired.secret}": "expired",
        f"Bearer {revoked.secret}": "was revoked",
        "Digest abc": "unsupported authorization scheme",
    }
    for header, phrase in cases.items():
        _refused(api.get("/api/v1/experiments", headers={"Authorization": header}), 401, phrase)
    log = auth_server.server.log()
    assert expired.secret not in log
    assert revoked.secret not in log


def test_bearer_and_basic_auth_as_mlflow_clients_send_them(
    auth_server: AuthServer, api: httpx.Client
) -> None:
    token = auth_server.tokens["editor"]
    created = api.post("/api/v1/experiments", json={"name": "e"}, auth=("editor", token))
    assert created.status_code == 201, created.text
    basic = "Basic " + base64.b64encode(f"editor:{token}".encode()).decode()
    assert api.get("/api/v1/experiments", headers={"Authorization": basic}).status_code == 200
    me = api.get(f"{G}/whoami", headers=auth_server.header("viewer")).json()
    assert me == {"name": "viewer", "role": "viewer", "authenticated": True, "auth_enabled": True}


def test_a_viewer_cannot_write_unless_granted(auth_server: AuthServer, api: httpx.Client) -> None:
    viewer = auth_server.header("viewer")
    _refused(
        api.post("/api/v1/experiments", json={"name": "v"}, headers=viewer),
        403,
        "user 'viewer' (role viewer) may not POST /api/v1/experiments: it needs write",
    )
    exp = api.post("/api/v1/experiments", json={"name": "x"}, headers=auth_server.header("editor"))
    exp_id = exp.json()["id"]
    _refused(api.post("/api/v1/runs", json={"experiment_id": exp_id}, headers=viewer), 403, "")
    auth_server.governance().users.grant("viewer", "experiment", exp_id, "write")
    run = api.post("/api/v1/runs", json={"experiment_id": exp_id}, headers=viewer)
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]
    logged = api.post(
        f"/api/v1/runs/{run_id}/metrics",
        json={"metrics": [{"key": "m", "value": 1}]},
        headers=viewer,
    )
    assert logged.status_code == 200, logged.text
    _refused(api.delete(f"/api/v1/experiments/{exp_id}", headers=viewer), 403, "needs manage")
    other = api.post("/api/v1/experiments", json={"name": "y"}, headers=auth_server.header("admin"))
    _refused(
        api.patch(f"/api/v1/experiments/{other.json()['id']}", json={}, headers=viewer), 403, ""
    )


def test_user_admin_over_http_needs_an_admin(auth_server: AuthServer, api: httpx.Client) -> None:
    _refused(api.get(f"{G}/users", headers=auth_server.header("approver")), 403, "needs admin")
    made = api.post(
        f"{G}/tokens", json={"user": "viewer", "expires": "1d"}, headers=auth_server.header("admin")
    )
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    assert api.get(f"{G}/whoami", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    api.post(f"{G}/tokens/{made.json()['id']}/revoke", headers=auth_server.header("admin"))
    _refused(api.get(f"{G}/whoami", headers={"Authorization": f"Bearer {secret}"}), 401, "revoked")
    listed = api.get(f"{G}/tokens", headers=auth_server.header("admin")).text
    assert secret not in listed
    events = api.get(f"{G}/audit", headers=auth_server.header("viewer")).text
    assert secret not in events


def test_cors_is_closed(auth_server: AuthServer, api: httpx.Client) -> None:
    preflight = api.options(
        "/api/v1/experiments",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    answer = api.get(
        "/api/v1/experiments",
        headers={"Origin": "https://evil.example", **auth_server.header("viewer")},
    )
    assert "access-control-allow-origin" not in answer.headers


@pytest.fixture
def versions(auth_server: AuthServer, tmp_path: Path) -> Any:
    """Two versions of "churn" in the server's store; v1 is the champion."""
    local = mlcycle.Client(auth_server.server.tracking_uri, auth_server.server.artifact_uri)
    log_version(local, auc=0.8)
    log_version(local, auc=0.85)
    local.registry.set_alias("churn", "champion", 1)
    yield local
    local.close()


def test_four_eyes_over_http(
    auth_server: AuthServer, api: httpx.Client, versions: mlcycle.Client
) -> None:
    body = {"kind": "alias", "target": "churn", "version": 2, "comment": "better AUC"}
    _refused(api.post(f"{G}/approvals", json=body, headers=auth_server.header("viewer")), 403, "")
    made = api.post(f"{G}/approvals", json=body, headers=auth_server.header("approver"))
    assert made.status_code == 201, made.text
    request_id = made.json()["id"]
    assert made.json()["requester"] == "approver"
    approve = f"{G}/approvals/{request_id}/approve"
    _refused(api.post(approve, json={}, headers=auth_server.header("editor")), 403, "needs approve")
    _refused(
        api.post(approve, json={}, headers=auth_server.header("approver")), 403, "second person"
    )
    done = api.post(approve, json={"comment": "ok"}, headers=auth_server.header("admin"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "applied"
    assert versions.registry.get_model("churn").aliases["champion"] == 2
    trail = api.get(
        f"{G}/audit", params={"target": "model:churn"}, headers=auth_server.header("viewer")
    )
    alias_events = [e for e in trail.json()["events"] if e["action"] == "model.alias"]
    assert alias_events[-1]["actor"] == "admin"


def test_audit_verify_fails_at_an_edited_row(
    auth_server: AuthServer, api: httpx.Client, versions: mlcycle.Client
) -> None:
    viewer = auth_server.header("viewer")
    for name in ("a", "b", "c"):
        api.post("/api/v1/experiments", json={"name": name}, headers=auth_server.header("editor"))
    assert api.get(f"{G}/audit/verify", headers=viewer).json()["ok"] is True
    events = api.get(f"{G}/audit", params={"action": "experiment.create"}, headers=viewer)
    target = events.json()["events"][1]["seq"]
    with auth_server.store.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = :seq"),
            {"seq": target},
        )
    result = api.get(f"{G}/audit/verify", headers=viewer).json()
    assert result["ok"] is False
    assert result["first_bad"] == target
    assert f"event {target} was edited" in result["problem"]
    # the CLI, as the token's owner, reports it and exits 1
    remote = mlcycle.Client(
        settings=mlcycle.Settings.from_env(
            {"MLCYCLE_TRACKING_URI": auth_server.url, "MLCYCLE_TOKEN": auth_server.tokens["viewer"]}
        )
    )
    verification = remote.governance.verify_audit()
    assert (verification.ok, verification.first_bad) == (False, target)
    exported = list(remote.governance.export_audit())
    assert len(exported) >= verification.events
    assert sum('"actor":"someone-else"' in line for line in exported) == 1
    remote.close()


def test_retirement_over_http(
    auth_server: AuthServer, api: httpx.Client, versions: mlcycle.Client
) -> None:
    editor = auth_server.header("editor")
    path = f"{G}/models/churn/versions/1/retire"
    _refused(api.post(path, json={"reason": "old"}, headers=editor), 409, "churn@champion")
    _refused(
        api.post(
            f"{G}/models/churn/versions/2/retire",
            json={"reason": "x"},
            headers=auth_server.header("viewer"),
        ),
        403,
        "needs manage",
    )
    retired = api.post(
        f"{G}/models/churn/versions/2/retire", json={"reason": "bad"}, headers=editor
    )
    assert retired.status_code == 200, retired.text
    assert retired.json()["status"] == "retired"
    assert retired.json()["tags"]["mlcycle.retired.by"] == "editor"
    with pytest.raises(mlcycle.MlcycleError, match="retired: bad"):
        mlcycle.models.load("models:/churn/2", client=versions)


def test_the_remote_client_sends_mlcycle_token(auth_server: AuthServer) -> None:
    def client_for(token: str | None) -> mlcycle.Client:
        env = {"MLCYCLE_TRACKING_URI": auth_server.url}
        if token:
            env["MLCYCLE_TOKEN"] = token
        return mlcycle.Client(settings=mlcycle.Settings.from_env(env))

    with client_for(auth_server.tokens["editor"]) as editor:
        assert editor.create_experiment("from-client").name == "from-client"
    with client_for(None) as anonymous, pytest.raises(AuthenticationError, match="no token"):
        anonymous.list_experiments()
    with client_for(auth_server.tokens["viewer"]) as viewer:
        with pytest.raises(PermissionDeniedError, match="needs write"):
            viewer.create_experiment("nope")
        assert [e.name for e in viewer.list_experiments()] == ["from-client"]
