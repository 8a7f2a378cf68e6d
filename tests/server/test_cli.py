"""``mlcycle server``: options reach ``serve``; bad ones are usage errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import mlcycle.server
from mlcycle.cli import server as server_command
from mlcycle.server import ServerConfig


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """mlcycle (the server command alone)."""

    server_command.register(app)
    return app


def test_server_command_passes_its_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        mlcycle.server, "serve", lambda settings, **kw: calls.append({"settings": settings, **kw})
    )
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = CliRunner().invoke(
        _app(),
        [
            "server",
            "--port",
            "5123",
            "--tracking-uri",
            db,
            "--artifact-uri",
            str(tmp_path),
            "--workers",
            "2",
            "--artifacts-destination",
            str(tmp_path / "mlartifacts"),
        ],
        env={"MLCYCLE_TRACKING_URI": None, "MLCYCLE_ARTIFACT_URI": None},
    )
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert call["host"] == "127.0.0.1"  # never exposed unless asked
    assert call["port"] == 5123
    assert call["workers"] == 2
    assert call["settings"].tracking_uri == db
    assert call["settings"].artifact_uri == str(tmp_path)
    assert isinstance(call["config"], ServerConfig)
    assert call["config"].max_body_bytes == 64 * 2**20
    assert call["config"].mlflow_artifacts_destination == str(tmp_path / "mlartifacts")


def test_server_command_rejects_bad_options() -> None:
    result = CliRunner().invoke(_app(), ["server", "--workers", "0"])
    assert result.exit_code == 2
    wide = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}
    help_text = CliRunner().invoke(_app(), ["server", "--help"], env=wide).output
    assert "--tracking-uri" in help_text
    assert "--workers" in help_text
    assert "--artifacts-destination" in help_text


def test_a_bad_artifacts_destination_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from mlcycle.server.__main__ import main

    assert main(["--artifacts-destination", "gs://bucket/x"]) == 1
    assert "artifacts destination 'gs://bucket/x'" in capsys.readouterr().err


def test_public_surface() -> None:
    assert sorted(mlcycle.server.__all__) == ["ServerConfig", "create_app", "serve"]
    for name in mlcycle.server.__all__:
        assert getattr(mlcycle.server, name).__doc__
