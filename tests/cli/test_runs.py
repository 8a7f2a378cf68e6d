"""``mlcycle runs ...``."""

from __future__ import annotations

import shlex

import mlcycle
from tests.cli.conftest import Cli, Seeded


def test_list_json_has_every_run_with_nan_as_null(cli: Cli, seeded: Seeded) -> None:
    runs = cli.ok("runs", "list", "churn", "--json").json()
    assert [r["run_id"] for r in runs] == [seeded.failed, seeded.lr, seeded.rf]  # newest first
    lr = runs[1]
    assert lr["name"] == "lr"
    assert lr["status"] == "FINISHED"
    assert lr["experiment_id"] == seeded.experiment_id
    assert lr["params"] == {"model": "lr", "depth": "0", "seed": "1"}
    assert lr["metrics"] == {"auc": 0.8, "loss": None}  # NaN: JSON has none
    assert isinstance(lr["start_time"], int)
    assert lr["duration"] >= 0
    assert runs[2]["metrics"]["auc"] == 0.9  # the latest step's value


def test_list_table(cli: Cli, seeded: Seeded) -> None:
    out = cli.ok("runs", "list", "churn").stdout
    for run_id in (seeded.rf, seeded.lr, seeded.failed):
        short = next(w for w in out.split() if len(w) >= 12 and run_id.startswith(w))
        assert cli.ok("runs", "show", short, "--json").json()["run_id"] == run_id  # it works
    header = out.splitlines()[1]
    assert header.index("auc") < header.index("loss")  # the primary metric comes first
    assert "FAILED" in out
    assert "NaN" in out
    assert "3 runs." in out


def test_list_on_a_narrow_terminal_keeps_short_ids_whole(cli: Cli, seeded: Seeded) -> None:
    out = cli.ok("runs", "list", "churn", env={"COLUMNS": "80"}).stdout
    assert all(len(line) <= 80 for line in out.splitlines() if "│" in line)
    for run_id in (seeded.rf, seeded.lr, seeded.failed):
        assert run_id[:12] in out
    assert "auc" in out.splitlines()[1]  # the primary metric made it


def test_list_max_results_says_there_is_more(cli: Cli, seeded: Seeded) -> None:
    out = cli.ok("runs", "list", "churn", "--max-results", "1").stdout
    assert seeded.failed[:12] in out
    assert seeded.rf[:12] not in out
    # The hint is a complete command for the next page; follow it.
    hint = next(line for line in out.splitlines() if line.startswith("More runs exist"))
    command = shlex.split(hint.split(": ", 1)[1])
    assert command[:5] == ["mlcycle", *cli.store_args[:2], "--artifact-uri", cli.artifact_uri]
    page = cli.ok(*command[5:], "--json").json()
    assert [r["run_id"] for r in page["runs"]] == [seeded.lr]
    assert len(cli.ok("runs", "list", "churn", "--max-results", "2", "--json").json()) == 2
    assert cli("runs", "list", "churn", "--max-results", "0").exit_code == 2


def test_list_unknown_experiment(cli: Cli) -> None:
    assert "no experiment" in cli("runs", "list", "nope").error_line()


def test_show(cli: Cli, seeded: Seeded) -> None:
    shown = cli.ok("runs", "show", seeded.rf, "--json").json()
    assert shown["run_id"] == seeded.rf
    assert shown["params"]["depth"] == "5"
    assert shown["metrics"] == {"auc": 0.9, "loss": 0.25}

    table = cli.ok("runs", "show", seeded.rf).stdout
    for text in ("rf", "churn", "FINISHED", "Params", "depth", "Metrics", "0.9", "notes.txt"):
        assert text in table

    failed = cli.ok("runs", "show", seeded.failed).stdout
    assert "FAILED" in failed
    assert "ValueError: boom" in failed


def test_show_unknown_run(cli: Cli) -> None:
    assert (
        cli("runs", "show", "abc", "--json").error_line()
        == "error: no run with ID, ID prefix or name 'abc'"
    )


def test_search_filter_and_order(cli: Cli, seeded: Seeded) -> None:
    found = cli.ok(
        "runs",
        "search",
        "churn",
        "--filter",
        "metrics.auc > 0.5 and params.seed = '1'",
        "--order-by",
        "metrics.auc DESC",
        "--json",
    ).json()
    assert [r["run_id"] for r in found["runs"]] == [seeded.rf, seeded.lr]
    assert found["next_page_token"] is None

    by_two = cli.ok(
        "runs", "search", "churn", "-o", "params.model ASC", "-o", "start_time DESC", "--json"
    ).json()
    assert [r["name"] for r in by_two["runs"]] == ["broken", "lr", "rf"]

    table = cli.ok("runs", "search", "churn", "-f", "params.model = 'lr'").stdout
    assert seeded.lr[:12] in table
    assert seeded.rf[:12] not in table


def test_search_several_experiments(cli: Cli, seeded: Seeded) -> None:
    with cli.client() as client, client.start_run("other", capture_environment=False) as run:
        run.log_metric("auc", 0.99)
    found = cli.ok("runs", "search", "churn", "other", "-f", "metrics.auc >= 0.9", "--json").json()
    assert {r["run_id"] for r in found["runs"]} == {seeded.rf, run.id}


def test_search_pages(cli: Cli, seeded: Seeded) -> None:
    args = ["runs", "search", "churn", "--order-by", "name ASC", "--max-results", "2"]
    first = cli.ok(*args, "--json").json()
    assert [r["name"] for r in first["runs"]] == ["broken", "lr"]
    token = first["next_page_token"]
    assert token
    assert f"--page-token {token}" in cli.ok(*args).stdout
    second = cli.ok(*args, "--page-token", token, "--json").json()
    assert [r["name"] for r in second["runs"]] == ["rf"]
    assert second["next_page_token"] is None


def test_search_errors_name_the_position(cli: Cli, seeded: Seeded) -> None:
    line = cli("runs", "search", "churn", "--filter", "metrics.auc >> 1").error_line()
    assert "position 12" in line
    line = cli("runs", "search", "churn", "--order-by", "metrics.auc DOWN").error_line()
    assert "position" in line
    assert "order_by" in line
    line = cli("runs", "search", "churn", "--page-token", "garbage").error_line()
    assert "page_token" in line


def test_compare(cli: Cli, seeded: Seeded) -> None:
    differ = cli.ok("runs", "compare", seeded.rf, seeded.lr, "--json").json()
    assert differ["runs"] == [
        {"run_id": seeded.rf, "name": "rf"},
        {"run_id": seeded.lr, "name": "lr"},
    ]
    assert differ["params"] == {"depth": ["5", "0"], "model": ["rf", "lr"]}
    assert differ["metrics"] == {"auc": [0.9, 0.8], "loss": [0.25, None]}
    assert differ["same_params"] == {"seed": "1"}
    assert "seed" not in differ["params"]

    everything = cli.ok("runs", "compare", seeded.rf, seeded.lr, "--all", "--json").json()
    assert everything["params"]["seed"] == ["1", "1"]

    table = cli.ok("runs", "compare", seeded.rf, seeded.lr, seeded.failed).stdout
    for text in ("params.depth", "metrics.auc", seeded.rf[:12], seeded.failed[:12], "broken"):
        assert text in table
    assert (
        "1 params and 0 metrics are the same"
        in cli.ok("runs", "compare", seeded.rf, seeded.lr).stdout
    )


def test_compare_needs_two_known_runs(cli: Cli, seeded: Seeded) -> None:
    one = cli("runs", "compare", seeded.rf)
    assert one.exit_code == 2
    assert "at least two" in one.stderr
    assert (
        "no run with ID, ID prefix or name 'nope'"
        in cli("runs", "compare", seeded.rf, "nope").error_line()
    )


def test_delete_and_restore(cli: Cli, seeded: Seeded) -> None:
    deleted = cli.ok("runs", "delete", seeded.lr)
    assert "Deleted run 'lr'" in deleted.stdout
    assert f"mlcycle runs restore {seeded.lr}" in deleted.stdout
    listed = [r["run_id"] for r in cli.ok("runs", "list", "churn", "--json").json()]
    assert seeded.lr not in listed
    assert cli.ok("runs", "show", seeded.lr, "--json").json()["lifecycle_stage"] == "deleted"

    assert "Restored run 'lr'" in cli.ok("runs", "restore", seeded.lr).stdout
    listed = [r["run_id"] for r in cli.ok("runs", "list", "churn", "--json").json()]
    assert seeded.lr in listed
    cli.ok("runs", "delete", "lr")
    # a deleted run is found by its name and by a prefix of its ID, as when it was deleted
    assert "Restored run 'lr'" in cli.ok("runs", "restore", "lr").stdout
    cli.ok("runs", "delete", "lr")
    assert "Restored run 'lr'" in cli.ok("runs", "restore", seeded.lr[:20]).stdout


def test_delete_unknown_run(cli: Cli) -> None:
    assert (
        cli("runs", "delete", "nope").error_line()
        == "error: no run with ID, ID prefix or name 'nope'"
    )
    assert (
        cli("runs", "restore", "nope").error_line()
        == "error: no run with ID, ID prefix or name 'nope'"
    )


def test_odd_experiment_names_survive_the_hints(cli: Cli) -> None:
    with cli.client() as client:
        for _ in range(2):
            with client.start_run("{odd} name", capture_environment=False):
                pass
    out = cli.ok("runs", "list", "{odd} name", "--max-results", "1").stdout
    assert "runs search '{odd} name' --max-results 1 --page-token" in out


def test_runs_are_found_by_prefix_and_name(cli: Cli, seeded: Seeded) -> None:
    assert cli.ok("runs", "show", seeded.rf[:20], "--json").json()["run_id"] == seeded.rf
    assert cli.ok("runs", "show", "rf", "--json").json()["run_id"] == seeded.rf
    line = cli("runs", "show", seeded.rf[:8]).error_line()  # every run shares it
    assert "run reference" in line
    assert "is ambiguous: 3 match" in line
    assert seeded.lr in line
    assert "did you mean 'broken'" in cli("runs", "show", "brokn").error_line()


def test_metric_history(cli: Cli, seeded: Seeded) -> None:
    out = cli.ok("runs", "metric", "rf", "auc", env={"COLUMNS": "100"}).stdout
    lines = out.splitlines()
    assert lines[0].startswith("auc of run rf")
    assert lines[1] == "▁▆█"  # 0.7, 0.85, 0.9
    assert "min    0.7 at step 0" in out
    assert "last   0.9 at step 2" in out
    assert all(len(line) <= 100 for line in lines)
    points = cli.ok("runs", "metric", seeded.rf[:20], "auc", "--json").json()["points"]
    assert [(p["step"], p["value"]) for p in points] == [(0, 0.7), (1, 0.85), (2, 0.9)]
    csv = cli.ok("runs", "metric", "rf", "auc", "--csv").stdout.splitlines()
    assert csv[0] == "step,timestamp,value"
    assert [row.split(",")[2] for row in csv[1:]] == ["0.7", "0.85", "0.9"]
    assert "did you mean 'auc'" in cli("runs", "metric", "rf", "acu").error_line()


def test_compare_groups_slice_metrics_at_100_columns(cli: Cli, seeded: Seeded) -> None:
    with cli.client() as client:
        for name, base in (("sliced-a", 0.9), ("sliced-b", 0.8)):
            with mlcycle.start_run("churn", name=name, client=client) as run:
                for plan in ("month-to-month-contract", "two-year-contract"):
                    key = f"slice/contract/{plan}/roc_auc_of_the_positive_class"
                    run.log_metric(key, base - 0.01)
    out = cli.ok("runs", "compare", "sliced-a", "sliced-b", env={"COLUMNS": "100"}).stdout
    lines = out.splitlines()
    assert all(len(line) <= 100 for line in lines)
    assert any("metrics.slice/contract/" in line for line in lines)  # one heading
    labels = [line.split("│")[1].strip() for line in lines if "positive_class" in line]
    assert len(labels) == 2
    assert labels[0].startswith("month-to-month")  # both ends kept: the rows differ
    assert labels[1].startswith("two-year")
    assert all(label.endswith("_the_positive_class") for label in labels)
