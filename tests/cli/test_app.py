"""The root command: global options, where the store is, the error table, help texts."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
from tests.cli.conftest import Cli

COMMANDS = [
    ["experiments", "create"],
    ["experiments", "list"],
    ["experiments", "show"],
    ["experiments", "delete"],
    ["experiments", "restore"],
    ["runs", "list"],
    ["runs", "show"],
    ["runs", "search"],
    ["runs", "compare"],
    ["runs", "delete"],
    ["runs", "restore"],
    ["artifacts", "list"],
    ["artifacts", "get"],
    ["db", "upgrade"],
    ["gc"],
    ["demo"],
]


def test_version(cli: Cli) -> None:
    result = cli.ok("--version", store=False)
    assert result.stdout.strip() == f"mlcycle {mlcycle.__version__}"


def test_no_arguments_shows_the_commands(cli: Cli) -> None:
    result = cli(store=False)
    assert result.exit_code in (0, 2)  # Click >= 8.2 treats "no command" as a usage error
    for group in ("experiments", "runs", "artifacts", "db", "gc", "demo"):
        assert group in result.stdout + result.stderr


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli: Cli, command: list[str]) -> None:
    result = cli.ok(*command, "--help", store=False)
    assert "Usage: mlcycle " + " ".join(command) in result.stdout
    assert "Example" in result.stdout
    assert f"mlcycle {command[0]}" in result.stdout.split("Example", 1)[1]


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("nosuch")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_store_comes_from_the_environment_without_options(cli: Cli, tmp_path: Path) -> None:
    env = {
        "MLCYCLE_TRACKING_URI": f"sqlite:///{tmp_path / 'env.db'}",
        "MLCYCLE_ARTIFACT_URI": str(tmp_path / "env-art"),
    }
    cli.ok("experiments", "create", "from-env", store=False, env=env)
    assert (tmp_path / "env.db").exists()
    listed = cli.ok("experiments", "list", "--json", store=False, env=env).json()
    assert [e["name"] for e in listed] == ["from-env"]
    # The options win over the environment.
    assert cli.ok("experiments", "list", "--json", env=env).json() == []


def test_default_store_is_dot_mlcycle_in_the_current_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cli.ok("experiments", "create", "here", store=False)
    assert (tmp_path / ".mlcycle" / "mlcycle.db").exists()


def test_library_errors_are_one_line_on_stderr_with_exit_1(cli: Cli) -> None:
    line = cli("runs", "show", "no-such-run").error_line()
    assert line == "error: no run with ID, ID prefix or name 'no-such-run'"


def test_bad_tracking_uri_is_a_user_error(cli: Cli) -> None:
    line = cli("--tracking-uri", "foo://x", "experiments", "list", store=False).error_line()
    assert "scheme 'foo' is not supported" in line


def test_file_system_errors_are_user_errors(cli: Cli, seeded: object, tmp_path: Path) -> None:
    run_id = cli.client().search_runs("churn", filter="name = 'rf'")[0].id
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    line = cli("artifacts", "get", run_id, "--dest", str(blocker / "sub")).error_line()
    assert str(blocker) in line
