"""``mlcycle ui``: serves the UI over the local store and prints its address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.live import free_port, wait_healthy


@pytest.mark.slow
def test_mlcycle_ui_serves_the_local_store(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MLCYCLE_TRACKING_URI": f"sqlite:///{tmp_path / 'ui.db'}",
        "MLCYCLE_ARTIFACT_URI": str(tmp_path / "artifacts"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mlcycle.cli.app", "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, alive=lambda: process.poll() is None)
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"mlcycle UI on {url}/")
        page = httpx.get(f"{url}/experiments", timeout=30)
        assert page.status_code == 200
        assert "No experiment" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_mlcycle_ui_refuses_a_server_uri(tmp_path: Path) -> None:
    env = {**os.environ, "MLCYCLE_TRACKING_URI": "http://127.0.0.1:1"}
    done = subprocess.run(
        [sys.executable, "-m", "mlcycle.cli.app", "ui"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "serves a local store" in done.stderr
