"""``mlcycle datasets ...`` on SQLite and PostgreSQL stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import mlcycle
from tests.cli.conftest import Cli
from tests.datasets.conftest import frame


@pytest.fixture
def dcli(store_url: str, tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli.tracking_uri = store_url
    return cli


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    v1 = tmp_path / "churn-v1.parquet"
    frame(seed=1).to_parquet(v1)
    v2 = tmp_path / "churn-v2.csv"
    frame(seed=2).drop(columns=["user"]).to_csv(v2, index=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text("- unique: id\n- not_null: {column: x, max_share: 0.01}\n")
    return {"v1": v1, "v2": v2, "rules": rules}


def test_register_list_and_show(dcli: Cli, files: dict[str, Path]) -> None:
    out = dcli.ok("datasets", "register", "churn", str(files["v1"]), "--tag", "team=growth")
    assert "Registered churn version 1: 200 rows × 5 columns" in out.stdout
    again = dcli.ok("datasets", "register", "churn", str(files["v1"]), "--json").json()
    assert again["version"] == 1  # same content, same version
    v2 = dcli.ok(
        "datasets", "register", "churn", str(files["v2"]), "--description", "no user", "--json"
    ).json()
    assert v2["version"] == 2
    assert v2["description"] == "no user"
    assert [c["name"] for c in v2["schema"]] == ["id", "x", "label", "ts"]
    listed = dcli.ok("datasets", "list", "--json").json()
    assert [(d["name"], d["latest_version"], d["version_count"]) for d in listed] == [
        ("churn", 2, 2)
    ]
    assert "churn" in dcli.ok("datasets", "list").stdout
    versions = dcli.ok("datasets", "list", "churn", "--json").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["tags"] == {"team": "growth"}
    shown = dcli.ok("datasets", "show", "churn", "1", "--json").json()
    assert shown["digest"] == versions[0]["digest"]
    assert shown["children"] == []
    assert shown["runs"] == []
    text = dcli.ok("datasets", "show", "churn").stdout
    assert "churn@2" in text
    assert "Schema" in text


def test_profile_table_and_json(dcli: Cli, files: dict[str, Path]) -> None:
    dcli.ok("datasets", "register", "churn", str(files["v1"]))
    data = dcli.ok("datasets", "profile", "churn", "--json").json()
    assert data["num_rows"] == 200
    assert [c["name"] for c in data["columns"]] == ["id", "x", "label", "user", "ts"]
    table = dcli.ok("datasets", "profile", "churn").stdout
    assert "Missing" in table
    assert "label" in table
    narrow = dcli.ok("datasets", "profile", "churn", env={"COLUMNS": "70"}).stdout
    assert "more statistics" in narrow


def test_validate_prints_the_report_and_fails_with_exit_1(
    dcli: Cli, files: dict[str, Path]
) -> None:
    dcli.ok("datasets", "register", "churn", str(files["v1"]))
    failed = dcli("datasets", "validate", "churn", "--rules", str(files["rules"]))
    assert failed.exit_code == 1
    assert "not_null(x, max_share=0.01)" in failed.stdout
    assert "FAIL" in failed.stdout
    assert failed.stderr.startswith("error: 1 of 2 rule(s) failed on churn@1")
    report = dcli("datasets", "validate", "churn", "1", "--rules", str(files["rules"]), "--json")
    assert report.exit_code == 1
    assert report.json()["passed"] is False
    shown = dcli.ok("datasets", "show", "churn", "--json").json()
    assert shown["validation"]["passed"] is False
    assert dcli("datasets", "validate", "churn").exit_code == 2  # --rules is needed


def test_register_with_rules_can_refuse(dcli: Cli, files: dict[str, Path]) -> None:
    refused = dcli(
        "datasets",
        "register",
        "churn",
        str(files["v1"]),
        "--rules",
        str(files["rules"]),
        "--refuse-on-failure",
    )
    assert "was not registered" in refused.error_line()
    assert dcli.ok("datasets", "list", "--json").json() == []
    kept = dcli.ok(
        "datasets", "register", "churn", str(files["v1"]), "--rules", str(files["rules"])
    )
    assert "Validation: 1 rule(s) failed" in kept.stdout


def test_diff(dcli: Cli, files: dict[str, Path]) -> None:
    dcli.ok("datasets", "register", "churn", str(files["v1"]))
    dcli.ok("datasets", "register", "churn", str(files["v2"]))
    data = dcli.ok("datasets", "diff", "churn", "1", "2", "--json").json()
    assert data["schema"]["removed_columns"] == ["user"]
    assert data["old_rows"] == data["new_rows"] == 200
    assert any(c["column"] == "x" for c in data["columns"])
    text = dcli.ok("datasets", "diff", "churn", "1", "2").stdout
    assert "Removed columns: user" in text
    assert "No changes." in dcli.ok("datasets", "diff", "churn", "1", "1").stdout
    assert "no version 9" in dcli("datasets", "diff", "churn", "1", "9").error_line()
    same = dcli.ok("datasets", "diff", "churn@1", "churn@2", "--json").json()
    assert same == data  # NAME@VERSION, the spelling every command prints
    assert dcli.ok("datasets", "diff", "churn:1", "churn:2", "--json").json() == data
    assert "churn@1" in dcli.ok("datasets", "show", "churn@1").stdout


def test_split_show_lineage_and_runs(dcli: Cli, files: dict[str, Path]) -> None:
    dcli.ok("datasets", "register", "churn", str(files["v1"]))
    parts = dcli.ok(
        "datasets", "split", "churn", "--test", "0.25", "--stratify", "label", "--json"
    ).json()
    assert {k: v["name"] for k, v in parts.items()} == {
        "train": "churn-train",
        "test": "churn-test",
    }
    assert parts["test"]["num_rows"] == 50
    assert parts["train"]["parents"][0]["transform"] == "split"
    again = dcli.ok("datasets", "split", "churn", "--test", "0.25", "--stratify", "label").stdout
    assert "churn-train" in again
    with dcli.client() as client:
        train = mlcycle.datasets.get("churn-train", client=client)
        with client.start_run("churn", capture_environment=False) as run:
            run.log_input(train)
    shown = dcli.ok("datasets", "show", "churn-train", "--json").json()
    assert shown["runs"] == [
        {
            "run_id": run.id,
            "name": "churn-train",
            "version": 1,
            "context": "train",
            "created_at": shown["runs"][0]["created_at"],
        }
    ]
    parent = dcli.ok("datasets", "show", "churn", "--json").json()
    assert sorted(c["name"] for c in parent["children"]) == ["churn-test", "churn-train"]
    assert "Used by runs" in dcli.ok("datasets", "show", "churn-train").stdout


def test_delete_and_restore(dcli: Cli, files: dict[str, Path]) -> None:
    dcli.ok("datasets", "register", "churn", str(files["v1"]))
    dcli.ok("datasets", "register", "churn", str(files["v2"]))
    assert "Undo with" in dcli.ok("datasets", "delete", "churn", "2").stdout
    assert dcli.ok("datasets", "show", "churn", "--json").json()["version"] == 1
    dcli.ok("datasets", "restore", "churn", "2")
    dcli.ok("datasets", "delete", "churn")
    assert "deleted" in dcli("datasets", "show", "churn").error_line()
    assert dcli.ok("datasets", "list", "--all", "--json").json()[0]["lifecycle_stage"] == "deleted"
    dcli.ok("datasets", "restore", "churn")
    assert dcli.ok("datasets", "show", "churn", "--json").json()["version"] == 2


def test_bad_input_is_one_error_line(dcli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    assert "file not found" in dcli("datasets", "register", "x", str(missing)).error_line()
    corrupt = tmp_path / "bad.parquet"
    corrupt.write_bytes(b"nope")
    assert "bad.parquet" in dcli("datasets", "register", "x", str(corrupt)).error_line()
    mixed = tmp_path / "empty.csv"
    pd.DataFrame({"a": []}).to_csv(mixed, index=False)
    assert "no rows" in dcli("datasets", "register", "x", str(mixed)).error_line()
    assert "no dataset named 'x'" in dcli("datasets", "show", "x").error_line()
    assert dcli("datasets", "register", "x", str(missing), "--tag", "nokey").exit_code == 2
