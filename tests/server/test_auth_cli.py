"""The approvals commands against a live ``--auth`` server, each user with their own
MLCYCLE_TOKEN (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
from tests.cli.conftest import Cli, Outcome
from tests.registry.conftest import log_version
from tests.server.authlive import AuthServer


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_approvals_against_an_auth_server(auth_server: AuthServer, cli: Cli) -> None:
    with mlcycle.Client(auth_server.server.tracking_uri, auth_server.server.artifact_uri) as local:
        log_version(local)
        log_version(local)
        local.registry.set_alias("churn", "champion", 1)

    def as_user(role: str, *args: str) -> Outcome:
        env = {"MLCYCLE_TRACKING_URI": auth_server.url, "MLCYCLE_TOKEN": auth_server.tokens[role]}
        return cli(*args, store=False, env=env)

    made = as_user(
        "editor", "approvals", "request", "alias", "churn", "2", "--comment", "v2", "--json"
    )
    request_id = made.json()["id"]
    own = as_user("editor", "approvals", "approve", request_id).error_line()
    assert "needs approve permission" in own
    # a unique prefix of the ID is enough, as for runs and alerts
    done = as_user("approver", "approvals", "approve", request_id[:12], "--comment", "ok")
    assert done.exit_code == 0, done
    assert "applied" in done.stdout
    listed = as_user("viewer", "approvals", "list", "--json").json()
    assert [a["status"] for a in listed] == ["applied"]
    shown = as_user("viewer", "approvals", "show", request_id[:12], "--json").json()
    assert shown["id"] == request_id
    table = as_user("viewer", "approvals", "list", "--status", "applied").stdout
    assert request_id[:12] in table
    anonymous = cli("approvals", "list", store=False, env={"MLCYCLE_TRACKING_URI": auth_server.url})
    assert "no token was sent" in anonymous.error_line()
