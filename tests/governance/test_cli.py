"""The governance commands against a local store: users, tokens, audit, approvals (off),
``models retire``, ``governance hold`` and retention in ``gc``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from mlcycle.store.sql.store import open_store
from tests.cli.conftest import Cli
from tests.registry.conftest import log_version


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_users_and_tokens(cli: Cli) -> None:
    assert "Created user alice (role admin)" in cli.ok("users", "create", "alice", "--admin").stdout
    cli.ok("users", "create", "bob", "--role", "editor")
    assert "invalid role" in cli("users", "create", "cy", "--role", "boss").error_line()
    made = cli.ok("tokens", "create", "--user", "bob", "--expires", "90d", "--json").json()
    assert made["token"].startswith("mlc_")
    assert made["expires_at"] - made["created_at"] == 90 * 86_400_000
    human = cli.ok("tokens", "create", "--user", "bob")
    assert human.stdout.strip().startswith("mlc_")
    assert "not shown again" in human.stderr
    listed = cli.ok("tokens", "list", "--json").json()
    assert [t["user"] for t in listed] == ["bob", "bob"]
    assert made["token"] not in cli.ok("tokens", "list").stdout
    assert cli("tokens", "revoke", made["id"][:2]).exit_code == 1  # too short or ambiguous
    cli.ok("tokens", "revoke", made["id"][:8])  # a unique prefix is enough
    assert cli.ok("tokens", "list", "--json").json()[0]["revoked_at"] is not None
    assert "no token with ID" in cli("tokens", "revoke", "nope").error_line()
    cli.ok("users", "disable", "bob")
    users = {u["name"]: u for u in cli.ok("users", "list", "--json").json()}
    assert users["bob"]["disabled"] is True
    assert users["alice"]["role"] == "admin"
    cli.ok("users", "grant", "bob", "--model", "churn", "--permission", "write")
    assert cli.ok("users", "grants", "bob", "--json").json()[0]["level"] == "write"
    assert cli("users", "grant", "bob").exit_code == 2  # neither --experiment nor --model


def test_audit_list_verify_export(cli: Cli, tmp_path: Path) -> None:
    cli.ok("experiments", "create", "e1")
    cli.ok("experiments", "create", "e2")
    cli.ok("users", "create", "alice")
    events = cli.ok("audit", "list", "--json").json()
    assert [e["action"] for e in events] == [
        "experiment.create",
        "experiment.create",
        "user.create",
    ]
    assert [e["seq"] for e in cli.ok("audit", "list", "--target", "user:*", "--json").json()] == [3]
    assert cli.ok("audit", "list", "--since", "1h", "--json").json() == events
    assert cli.ok("audit", "list", "--since", "2999-01-01", "--json").json() == []
    assert "neither a duration" in cli("audit", "list", "--since", "soon").error_line()
    assert "OK: 3 events" in cli.ok("audit", "verify").stdout
    out = tmp_path / "audit.jsonl"
    cli.ok("audit", "export", "--jsonl", "-o", str(out))
    assert len(out.read_text().splitlines()) == 3
    store = open_store(cli.tracking_uri)
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET target = 'experiment:x' WHERE seq = 2"))
    store.close()
    failed = cli("audit", "verify")
    assert failed.exit_code == 1
    assert "FAILED at event 2" in failed.stderr
    assert cli("audit", "verify", "--json").json()["first_bad"] == 2


def test_models_retire_and_gc_retention(cli: Cli) -> None:
    with cli.client() as client:
        log_version(client)
        log_version(client)
        client.registry.set_alias("churn", "champion", 1)
    refused = cli("models", "retire", "churn", "1", "--reason", "old").error_line()
    assert "churn@champion point at it" in refused
    assert (
        "Retired churn version 2"
        in cli.ok("models", "retire", "churn", "2", "--reason", "x").stdout
    )
    assert [v["version"] for v in cli.ok("models", "versions", "churn", "--json").json()] == [1]
    assert len(cli.ok("models", "versions", "churn", "--all", "--json").json()) == 2
    cli.ok("governance", "hold", "churn", "2", "--reason", "case 7")
    kept = cli.ok("gc", "--retired-artifacts", "0s", "--json").json()["retention"]
    assert kept["held"] == ["churn/2"]
    cli.ok("governance", "hold", "churn", "2", "--release")
    removed = cli.ok("gc", "--retired-artifacts", "0s").stdout
    assert "Deleted the artifacts of retired model versions: churn/2" in removed


def test_approvals_are_off_without_auth(cli: Cli) -> None:
    status = cli.ok("governance", "status").stdout
    assert "approvals are off" in status
    line = cli("approvals", "request", "alias", "churn", "2").error_line()
    assert "approvals are off" in line


def test_protect_says_what_needs_approval(cli: Cli) -> None:
    out = cli.ok("governance", "protect", "--model", "*", "--alias", "production").stdout
    assert out.strip() == "Moving the alias production of every model needs approval"
    out = cli.ok("governance", "protect", "--deployment", "churn-prod", "--off").stdout
    assert out.strip() == "A rollout on deployment churn-prod no longer needs approval"
    assert "production" in cli.ok("governance", "status").stdout


def test_user_and_token_listings_fit_100_columns(cli: Cli) -> None:
    narrow = {"COLUMNS": "100"}
    cli.ok("users", "create", "a-service-account-with-a-rather-long-name", "--role", "editor")
    for _ in range(3):
        cli.ok("tokens", "create", "--user", "a-service-account-with-a-rather-long-name")
    users = cli.ok("users", "list", env=narrow).stdout
    assert all(len(line) <= 100 for line in users.splitlines()), users
    assert "editor" in users
    tokens = cli.ok("tokens", "list", env=narrow).stdout
    assert all(len(line) <= 100 for line in tokens.splitlines()), tokens
    for token in cli.ok("tokens", "list", "--json").json():
        assert token["id"] in tokens  # IDs are never cut: `tokens revoke` takes them
    only = cli.ok("tokens", "list", "--columns", "id,expires", env=narrow).stdout
    assert "User" not in only.splitlines()[1]  # the header row
    assert "never" in only
    narrower = cli.ok("tokens", "list", env={"COLUMNS": "60"}).stdout
    assert "Not shown:" in narrower
    assert "Created" in cli.ok("tokens", "list", "--wide", env={"COLUMNS": "60"}).stdout
