"""``mlcycle monitors`` and ``mlcycle alerts`` through the console script itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.models._models import churn_frame
from tests.monitoring._receiver import Receiver
from tests.monitoring._setup import DEPLOYMENT, Setup, deploy_churn, log_predictions, shifted


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@pytest.fixture
def live(cli: Cli) -> Setup:
    client = cli.client()
    setup = deploy_churn(client)
    now = int(time.time() * 1000)
    log_predictions(setup, shifted(churn_frame(200, seed=6)), start_ms=now - 20 * 60_000)
    return setup


def test_create_list_show_and_errors(cli: Cli, live: Setup) -> None:
    cli.ok(
        "monitors",
        "create",
        "watch",
        "--deployment",
        DEPLOYMENT,
        "--window",
        "1h",
        "--schedule",
        "15m",
    )
    listed = cli.ok("monitors", "list", "--json").json()
    assert [(m["name"], m["window"], m["schedule_ms"]) for m in listed] == [
        ("watch", "1h", 900_000)
    ]
    assert "watch" in cli.ok("monitors", "list").stdout
    shown = cli.ok("monitors", "show", "watch", "--json").json()
    assert shown["deployment"] == DEPLOYMENT
    assert shown["latest"] is None
    line = cli("monitors", "create", "bad", "-d", DEPLOYMENT, "--window", "soon").error_line()
    assert "window 'soon' is not valid" in line
    line = cli("monitors", "create", "x", "-d", "nope").error_line()
    assert "nope" in line
    assert "does not exist" in cli("monitors", "show", "zzz").error_line()


def test_rules_run_results_alerts_and_report(cli: Cli, live: Setup, tmp_path: Path) -> None:
    cli.ok("monitors", "create", "watch", "-d", DEPLOYMENT)
    with Receiver() as receiver:
        added = cli.ok(
            "monitors",
            "alert",
            "watch",
            "--on",
            "dataset_drift",
            "--severity",
            "critical",
            "--webhook",
            receiver.url,
            "--secret",
            "s",
            "--json",
        ).json()
        assert added["condition"] == "dataset_drift"
        assert added["signed"] is True
        cli.ok("monitors", "alert", "watch", "--on", "column_drift:tenure", "--cooldown", "2h")
        rules = cli.ok("monitors", "rules", "watch", "--json").json()
        assert [r["name"] for r in rules] == ["dataset_drift", "column_drift.tenure"]
        ran = cli.ok("monitors", "run", "watch", "--json").json()
        assert ran[0]["status"] == "issues"
        assert ran[0]["dataset_drift"] is True
        assert len(receiver.accepted) == 1
    assert "issues" in cli.ok("monitors", "results", "watch").stdout
    results = cli.ok("monitors", "results", "watch", "--json", "--details").json()
    assert results[0]["details"]["feature_drift"]["columns"]["tenure"]["drifted"] is True

    alerts = cli.ok("alerts", "list", "--json").json()
    assert sorted(a["rule"] for a in alerts) == ["column_drift.tenure", "dataset_drift"]
    critical = next(a for a in alerts if a["rule"] == "dataset_drift")
    assert [d["channel"] for d in critical["deliveries"]] == ["log", "webhook"]
    assert "webhook" in cli.ok("alerts", "show", critical["id"]).stdout
    acked = cli.ok("alerts", "ack", critical["id"], "--by", "ana", "--json").json()
    assert acked["status"] == "acknowledged"
    assert len(cli.ok("alerts", "list", "--status", "open", "--json").json()) == 1
    assert "unknown alert status" in cli("alerts", "list", "--status", "x").error_line()

    page = tmp_path / "report.html"
    cli.ok("monitors", "report", "watch", "--html", str(page))
    assert page.read_text().startswith("<!DOCTYPE html>")
    data = cli.ok("monitors", "report", "watch", "--json").json()
    assert data["monitor"]["name"] == "watch"
    assert len(data["results"]) == 1

    cli.ok("monitors", "alert", "watch", "--delete", "dataset_drift")
    assert len(cli.ok("monitors", "rules", "watch", "--json").json()) == 1
    cli.ok("monitors", "schedule", "watch", "5m")
    assert cli.ok("monitors", "run", "--json").json() == []  # it ran a moment ago
    assert "No monitor is due" in cli.ok("monitors", "run").stdout
    forced = cli.ok("monitors", "run", "--all", "--json").json()
    assert [r["monitor"] for r in forced] == ["watch"]
    cli.ok("monitors", "delete", "watch")
    assert cli.ok("monitors", "list", "--json").json() == []


def test_run_exits_1_when_a_monitor_failed(cli: Cli, live: Setup) -> None:
    cli.ok("monitors", "create", "watch", "-d", DEPLOYMENT)
    with cli.client() as client:
        client.deployments.delete(DEPLOYMENT)
    outcome = cli("monitors", "run", "watch")
    assert outcome.exit_code == 1
    assert "failed" in outcome.stdout
