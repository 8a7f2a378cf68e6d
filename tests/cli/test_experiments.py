"""``mlcycle experiments ...``."""

from __future__ import annotations

from tests.cli.conftest import Cli, Seeded


def test_create_with_problem_and_tags_then_show(cli: Cli) -> None:
    created = cli.ok(
        "experiments",
        "create",
        "churn",
        "--task",
        "classification",
        "--target",
        "churned",
        "--primary-metric",
        "roc_auc",
        "--direction",
        "maximize",
        "--threshold",
        "0.8",
        "--description",
        "Who leaves next month",
        "--tag",
        "team=growth",
        "--tag",
        "quarter=q3",
    )
    assert "Created experiment churn" in created.stdout

    shown = cli.ok("experiments", "show", "churn", "--json").json()
    assert shown["name"] == "churn"
    assert shown["description"] == "Who leaves next month"
    assert shown["lifecycle_stage"] == "active"
    assert shown["problem"] == {
        "task": "classification",
        "target": "churned",
        "primary_metric": "roc_auc",
        "direction": "maximize",
        "threshold": 0.8,
    }
    assert shown["tags"] == {"team": "growth", "quarter": "q3"}
    by_id = cli.ok("experiments", "show", shown["experiment_id"], "--json").json()
    assert by_id == shown

    table = cli.ok("experiments", "show", "churn").stdout
    assert "roc_auc (maximize, success at >= 0.8)" in table
    assert "team=growth" in table


def test_create_defaults_and_minimize(cli: Cli) -> None:
    cli.ok("experiments", "create", "price", "--task", "REGRESSION", "--direction", "minimize")
    problem = cli.ok("experiments", "show", "price", "--json").json()["problem"]
    assert problem["task"] == "regression"
    assert problem["direction"] == "minimize"
    assert problem["primary_metric"] is None


def test_create_errors(cli: Cli) -> None:
    cli.ok("experiments", "create", "churn")
    assert "exists already" in cli("experiments", "create", "churn").error_line()
    assert "needs a primary_metric" in (
        cli("experiments", "create", "x", "--threshold", "0.5").error_line()
    )
    bad_tag = cli("experiments", "create", "x", "--tag", "no-equals-sign")
    assert bad_tag.exit_code == 2
    assert "KEY=VALUE" in bad_tag.stderr
    bad_task = cli("experiments", "create", "x", "--task", "clustering")
    assert bad_task.exit_code == 2


def test_list_table_and_json(cli: Cli) -> None:
    empty = cli.ok("experiments", "list")
    assert "No experiments yet" in empty.stdout
    assert cli.ok("experiments", "list", "--json").json() == []

    cli.ok("experiments", "create", "a", "--primary-metric", "auc", "--threshold", "0.7")
    cli.ok("experiments", "create", "b")
    listed = cli.ok("experiments", "list", "--json").json()
    assert [e["name"] for e in listed] == ["a", "b"]
    table = cli.ok("experiments", "list").stdout
    assert listed[0]["experiment_id"] in table
    assert "auc ↑ ≥ 0.7" in table


def test_delete_and_restore(cli: Cli) -> None:
    cli.ok("experiments", "create", "old")
    deleted = cli.ok("experiments", "delete", "old")
    assert "Deleted experiment 'old'" in deleted.stdout
    assert "mlcycle experiments restore" in deleted.stdout

    assert cli.ok("experiments", "list", "--json").json() == []
    everything = cli.ok("experiments", "list", "--all", "--json").json()
    assert [(e["name"], e["lifecycle_stage"]) for e in everything] == [("old", "deleted")]
    assert "deleted" in cli.ok("experiments", "list", "--all").stdout
    assert cli.ok("experiments", "show", "old", "--json").json()["deleted_at"] is not None

    assert "Restored experiment 'old'" in cli.ok("experiments", "restore", "old").stdout
    assert [e["name"] for e in cli.ok("experiments", "list", "--json").json()] == ["old"]


def test_unknown_experiment(cli: Cli) -> None:
    for command in ("show", "delete", "restore"):
        line = cli("experiments", command, "nope").error_line()
        assert line == "error: no experiment with name or ID 'nope'"


def test_show_names_the_best_run(cli: Cli, seeded: Seeded) -> None:
    shown = cli.ok("experiments", "show", "churn").stdout
    best_line = next(line for line in shown.splitlines() if line.startswith("Best run"))
    assert seeded.rf in best_line
    assert "auc = 0.9" in best_line
    assert "meets the threshold" in best_line


def test_names_are_not_read_as_markup(cli: Cli) -> None:
    cli.ok("experiments", "create", "[bold]x[/bold]")
    assert "[bold]x[/bold]" in cli.ok("experiments", "list").stdout
    assert "[bold]x[/bold]" in cli.ok("experiments", "show", "[bold]x[/bold]").stdout
