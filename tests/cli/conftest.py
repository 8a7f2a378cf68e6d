"""Helpers for the CLI tests: run ``mlcycle`` in-process against a temporary store.

Commands go through :func:`mlcycle.cli.app.main`, the console script itself, so the
error table (exit codes, one-line messages) is what is tested, inside Typer's
``CliRunner`` isolation (separate stdout and stderr, environment overrides).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import mlcycle
from mlcycle.cli.app import main

# Wide tables (run IDs are never cut anyway) and no colours, whatever the outer shell says.
BASE_ENV: dict[str, str | None] = {
    "COLUMNS": "200",
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "MLCYCLE_TRACKING_URI": None,
    "MLCYCLE_ARTIFACT_URI": None,
    "MLCYCLE_TOKEN": None,
}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as strict JSON (NaN or Infinity would fail)."""
        return json.loads(self.stdout, parse_constant=_reject_constant)

    def error_line(self) -> str:
        """The single ``error: ...`` line of a failed command (asserts there is one)."""
        assert self.exit_code == 1, self
        assert self.stdout == "", self
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("error: "), self.stderr
        return lines[0]


def _reject_constant(name: str) -> None:
    raise AssertionError(f"{name} is not valid JSON")


class Cli:
    """``cli("runs", "list", "exp")`` runs ``mlcycle --tracking-uri ... runs list exp``."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.tracking_uri = f"sqlite:///{tmp_path / 'm.db'}"
        self.artifact_uri = str(tmp_path / "art")
        self.runner = CliRunner()

    @property
    def store_args(self) -> list[str]:
        return ["--tracking-uri", self.tracking_uri, "--artifact-uri", self.artifact_uri]

    def __call__(
        self, *args: str, store: bool = True, env: Mapping[str, str | None] | None = None
    ) -> Outcome:
        argv = [*self.store_args, *args] if store else list(args)
        with self.runner.isolation(env={**BASE_ENV, **(env or {})}) as (out, err, _):
            code: int
            try:
                main(argv)
                code = 0  # pragma: no cover - main always exits
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            return Outcome(code, out.getvalue().decode(), err.getvalue().decode())

    def ok(self, *args: str, **kwargs: Any) -> Outcome:
        """Run and assert success (exit 0, nothing on stderr)."""
        result = self(*args, **kwargs)
        assert result.exit_code == 0, result
        return result

    def client(self) -> mlcycle.Client:
        return mlcycle.Client(self.tracking_uri, self.artifact_uri)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


@dataclass(frozen=True)
class Seeded:
    """An experiment ``churn`` (primary metric auc, maximize) with three runs."""

    experiment_id: str
    rf: str  # auc 0.9, artifacts model/info.json and notes.txt
    lr: str  # auc 0.8, loss NaN (latest)
    failed: str  # FAILED, no auc


@pytest.fixture
def seeded(cli: Cli) -> Seeded:
    with cli.client() as client:
        exp = client.create_experiment(
            "churn",
            task="classification",
            target="churned",
            primary_metric="auc",
            threshold=0.85,
        )
        with mlcycle.start_run(exp, name="rf", client=client, capture_environment=False) as rf:
            rf.log_params({"model": "rf", "depth": 5, "seed": 1})
            for step, value in enumerate([0.7, 0.85, 0.9]):
                rf.log_metric("auc", value, step=step)
            rf.log_metric("loss", 0.25)
            rf.log_dict({"trees": 100}, "model/info.json")
            rf.log_text("hello", "notes.txt")
        with mlcycle.start_run(exp, name="lr", client=client, capture_environment=False) as lr:
            lr.log_params({"model": "lr", "depth": 0, "seed": 1})
            lr.log_metric("auc", 0.8)
            lr.log_metric("loss", math.nan)
        failed = client.start_run(exp, name="broken", capture_environment=False)
        failed.log_param("model", "broken")
        failed.end(
            mlcycle.RunStatus.FAILED, error="Traceback (most recent call last):\nValueError: boom"
        )
    return Seeded(exp.id, rf.id, lr.id, failed.id)
