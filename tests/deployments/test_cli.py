"""``mlcycle deployments ...``: JSON outputs, tables, and one-line errors with exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.registry.conftest import log_version


@pytest.fixture
def dcli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    with cli.client() as c:
        log_version(c, "churn")
        log_version(c, "churn")
        c.registry.set_alias("churn", "champion", 1)
    return cli


def test_deployment_commands(dcli: Cli) -> None:
    cli = dcli
    created = cli.ok(
        "deployments", "create", "churn", "--model", "models:/churn@champion",
        "--max-batch-size", "16", "--max-latency-ms", "5", "--log-sample-rate", "0.5",
        "--routing-key", "customer_id", "--json",
    ).json()  # fmt: skip
    assert created["options"] == {
        "max_batch_size": 16,
        "max_latency_ms": 5.0,
        "log_sample_rate": 0.5,
        "routing_key": "customer_id",
        "trusted": [],
    }
    assert [(a["name"], a["weight"]) for a in created["arms"]] == [("primary", 100.0)]
    assert [d["name"] for d in cli.ok("deployments", "list", "--json").json()] == ["churn"]
    assert "models:/churn@champion" in cli.ok("deployments", "list").stdout

    split = cli.ok(
        "deployments", "split", "churn", "--to", "models:/churn/1=50",
        "--to", "models:/churn/2=50", "--json",
    ).json()  # fmt: skip
    assert split["strategy"] == "split"
    assert [(a["name"], a["model_uri"]) for a in split["arms"]] == [
        ("a", "models:/churn/1"),
        ("b", "models:/churn/2"),
    ]
    canary = cli.ok(
        "deployments", "canary", "churn", "--candidate", "models:/churn@champion",
        "--steps", "10,50,100", "--interval", "10m", "--max-error-rate", "0.01",
        "--max-p99-ms", "50", "--min-accuracy", "0.8", "--json",
    ).json()  # fmt: skip
    assert canary["canary"]["steps"] == [10, 50, 100]
    assert canary["canary"]["interval_s"] == 600.0
    assert [a["weight"] for a in canary["arms"]] == [45.0, 45.0, 10.0]

    status = cli.ok("deployments", "status", "churn", "--json").json()
    assert [(a["name"], a["version"]) for a in status["arms"]] == [
        ("a", 1),
        ("b", 2),
        ("candidate", 1),
    ]
    assert status["canary_progress"]["percent"] == 10
    shown = cli.ok("deployments", "status", "churn").stdout
    assert "[10%] -> 50% -> 100%" in shown
    assert "candidate" in shown

    back = cli.ok("deployments", "rollback", "churn", "--reason", "too slow")
    assert "Rolled back deployment churn (revision 4)" in back.stdout
    shadow = cli.ok(
        "deployments", "shadow", "churn", "--candidate", "models:/churn/2", "--percent", "20",
        "--json",
    ).json()  # fmt: skip
    assert shadow["arms"][-1] == {
        "name": "shadow",
        "model_uri": "models:/churn/2",
        "weight": 20.0,
        "role": "shadow",
    }
    events = cli.ok("deployments", "history", "churn", "--json").json()
    assert [(e["revision"], e["action"]) for e in events] == [
        (1, "create"),
        (2, "split"),
        (3, "canary"),
        (4, "rollback"),
        (5, "shadow"),
    ]
    assert events[3]["reason"] == "too slow"
    assert events[3]["after"]["strategy"] == "split"
    table = cli.ok("deployments", "history", "churn").stdout
    assert "too slow" in table
    assert "shadow 20%" in table
    narrow = cli.ok("deployments", "history", "churn", env={"COLUMNS": "100"}).stdout
    assert all(len(line) <= 100 for line in narrow.splitlines()), narrow
    assert "canary" in narrow  # the key columns stay
    assert "too slow" in narrow
    picked = cli.ok("deployments", "history", "churn", "--columns", "rev,reason").stdout
    assert "Action" not in picked.splitlines()[1]  # the header row
    assert "too slow" in picked
    assert "no column 'nope'" in cli("deployments", "history", "churn", "--columns", "nope").stderr
    wide = cli.ok("deployments", "history", "churn", "--wide", env={"COLUMNS": "60"}).stdout
    assert "Arms after" in wide

    assert "Deleted deployment churn" in cli.ok("deployments", "delete", "churn").stdout
    assert cli.ok("deployments", "list", "--json").json() == []
    assert "(deleted)" in cli.ok("deployments", "list", "--all").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "nope"], "deployment 'nope' does not exist"),
        (["create", "x", "--model", "models:/churn/9"], "no version 9"),
        (["create", "x y", "--model", "models:/churn/1"], "invalid deployment name 'x y'"),
        (["create", "x", "--model", "models:/churn/1", "--log-sample-rate", "2"], "0 to 1"),
        (["split", "churn", "--to", "models:/churn/1=60", "--to", "models:/churn/2=60"], "120"),
        (["split", "churn", "--to", "models:/churn/1"], "must look like MODEL_URI=WEIGHT"),
        (["canary", "churn", "--candidate", "models:/churn/2", "--steps", "5,x"], "--steps"),
        (["canary", "churn", "--candidate", "models:/churn/2", "--steps", "50,5,100"], "strictly"),
        (["canary", "churn", "--candidate", "models:/churn/2", "--interval", "1y"], "duration"),
        (["rollback", "churn"], "nothing to roll back"),
        (["shadow", "churn", "--candidate", "models:/churn/2", "--percent", "0"], "percent"),
    ],
)
def test_errors_are_one_line(dcli: Cli, args: list[str], message: str) -> None:
    dcli.ok("deployments", "create", "churn", "--model", "models:/churn/1")
    line = dcli("deployments", *args).error_line()
    assert message in line


def test_serve_needs_a_deployment(dcli: Cli) -> None:
    pytest.importorskip("mlcycle.serving", reason="the serving package is not there yet")
    line = dcli("deployments", "serve", "nope", "--port", "0").error_line()
    assert "'nope'" in line
