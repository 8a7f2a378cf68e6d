"""Anchoring the audit head outside the store: a recomputed chain, cut-off newest events
and a rewritten tail pass the chain check alone but fail against the anchors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from mlcycle.entities.governance import GENESIS_HASH, event_hash
from mlcycle.store.sql.store import open_store
from tests.cli.conftest import Cli

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def _recompute_chain(tracking_uri: str, *, keep: int | None = None, edit: int = 0) -> None:
    """What an attacker with write access to the store does: change event ``edit`` (if
    any), drop events after ``keep`` (if given), and recompute every hash so the chain
    verifies."""
    store = open_store(tracking_uri)
    with store.db.engine.begin() as conn:
        if keep is not None:
            conn.execute(text("DELETE FROM audit_events WHERE seq > :k"), {"k": keep})
        rows = conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
        prev = GENESIS_HASH
        for row in rows:
            target = "experiment:forged" if row["seq"] == edit else row["target"]
            new = event_hash(
                prev,
                seq=row["seq"],
                id=row["id"],
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                target=target,
                before=None if row["before"] is None else json.loads(row["before"]),
                after=None if row["after"] is None else json.loads(row["after"]),
            )
            conn.execute(
                text("UPDATE audit_events SET target=:t, prev_hash=:p, hash=:h WHERE seq=:s"),
                {"t": target, "p": prev, "h": new, "s": row["seq"]},
            )
            prev = new
    store.close()


def _setup(cli: Cli) -> str:
    for name in ("e1", "e2", "e3"):
        cli.ok("experiments", "create", name)
    head: str = cli.ok("audit", "verify", "--json").json()["head"]
    return head


def test_expect_head_finds_cut_off_events(cli: Cli) -> None:
    head = _setup(cli)
    assert cli.ok("audit", "verify", "--expect-head", head).stdout.startswith("OK: 3 events")
    cli.ok("experiments", "create", "e4")  # appending keeps the anchor valid
    cli.ok("audit", "verify", "--expect-head", head)
    _recompute_chain(cli.tracking_uri, keep=2)
    assert cli.ok("audit", "verify").stdout.startswith("OK: 2 events")  # the chain alone
    failed = cli("audit", "verify", "--expect-head", head)
    assert failed.exit_code == 1
    assert "is not in the chain" in failed.stderr


def test_expect_head_finds_a_recomputed_chain(cli: Cli) -> None:
    head = _setup(cli)
    _recompute_chain(cli.tracking_uri, edit=2)
    cli.ok("audit", "verify")
    assert cli("audit", "verify", "--expect-head", head).exit_code == 1


def test_signed_checkpoints(cli: Cli, tmp_path: Path) -> None:
    ckpt = tmp_path / "elsewhere" / "audit.ckpt"
    ckpt.parent.mkdir()
    _setup(cli)
    env = {"MLCYCLE_AUDIT_KEY": KEY}
    assert "need MLCYCLE_AUDIT_KEY" in cli("audit", "checkpoint", "-o", str(ckpt)).error_line()
    cli.ok("audit", "checkpoint", "-o", str(ckpt), env=env)
    cli.ok("experiments", "create", "e4")
    cli.ok("audit", "checkpoint", "-o", str(ckpt), env=env)
    cli.ok("experiments", "create", "e5")  # a forged append would land here
    out = cli.ok("audit", "verify", "--checkpoints", str(ckpt), env=env).stdout
    assert "OK: 5 events" in out
    assert "1 events after the newest checkpoint (event 4) are not anchored yet" in out
    # a wrong key, or an altered checkpoint, is refused
    wrong = cli("audit", "verify", "--checkpoints", str(ckpt), env={"MLCYCLE_AUDIT_KEY": "x" * 32})
    assert "bad signature" in wrong.error_line()
    # rewriting the chain from event 3 on (and appending a forged event) is found
    _recompute_chain(cli.tracking_uri, edit=3)
    failed = cli("audit", "verify", "--checkpoints", str(ckpt), env=env)
    assert failed.exit_code == 1
    assert "FAILED at event 3: event 3 differs from its signed checkpoint" in failed.stderr


def test_checkpoints_find_cut_off_events(cli: Cli, tmp_path: Path) -> None:
    ckpt = tmp_path / "audit.ckpt"
    _setup(cli)
    env = {"MLCYCLE_AUDIT_KEY": KEY}
    cli.ok("audit", "checkpoint", "-o", str(ckpt), env=env)
    _recompute_chain(cli.tracking_uri, keep=2)
    failed = cli("audit", "verify", "--checkpoints", str(ckpt), env=env)
    assert "a signed checkpoint holds event 3: events at the end were removed" in failed.stderr
