"""``mlcycle db upgrade`` and ``mlcycle gc``."""

from __future__ import annotations

import time

from tests.cli.conftest import Cli, Seeded


def test_upgrade_a_new_store_then_again(cli: Cli) -> None:
    first = cli.ok("db", "upgrade").stdout
    assert "Before: (empty store)" in first
    after = next(line for line in first.splitlines() if line.startswith("After:"))
    revision = after.split()[1]
    assert revision

    second = cli.ok("db", "upgrade").stdout
    assert f"Before: {revision}" in second
    assert f"After:  {revision}  (already up to date)" in second
    # The store works after an explicit upgrade.
    cli.ok("experiments", "create", "x")


def test_gc_removes_only_what_was_deleted_long_enough_ago(cli: Cli, seeded: Seeded) -> None:
    cli.ok("runs", "delete", seeded.lr)
    nothing = cli.ok("gc").stdout
    assert "Nothing to remove" in nothing
    assert "30d" in nothing
    assert cli.ok("gc", "--older-than", "1h", "--json").json() == {
        "runs": 0,
        "experiments": 0,
        "older_than": "1h",
        "retention": {
            "retired_artifacts_deleted": [],
            "held": [],
            "prediction_log_partitions_deleted": [],
            "dry_run": False,
        },
    }

    time.sleep(0.01)  # deleted strictly before the cut-off
    removed = cli.ok("gc", "--older-than", "0ms", "--json").json()
    assert {k: removed[k] for k in ("runs", "experiments", "older_than")} == {
        "runs": 1,
        "experiments": 0,
        "older_than": "0ms",
    }
    assert (
        cli("runs", "show", seeded.lr).error_line()
        == f"error: no run with ID, ID prefix or name '{seeded.lr}'"
    )
    assert cli.ok("runs", "show", seeded.rf, "--json").json()["name"] == "rf"


def test_gc_an_experiment_takes_its_runs(cli: Cli, seeded: Seeded) -> None:
    cli.ok("experiments", "delete", "churn")
    time.sleep(0.01)
    out = cli.ok("gc", "--older-than", "0s").stdout
    assert "Removed 3 runs and 1 experiment deleted more than 0s ago" in out
    assert cli.ok("experiments", "list", "--all", "--json").json() == []


def test_gc_bad_duration(cli: Cli) -> None:
    line = cli("gc", "--older-than", "soon").error_line()
    assert "is not a duration" in line
