"""Serving processes for tests: ``mlcycle serve`` / ``mlcycle deployments serve`` started
as real subprocesses on a free port, waited on until ready, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

from tests.server.live import free_port
from tests.serving._models import TRUST

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0


class ServeProcess:
    """``python -m mlcycle.cli.app [global options] <command...> --port P``."""

    def __init__(
        self,
        command: list[str],
        *,
        tracking_uri: str,
        artifact_uri: str | Path,
        log_path: Path,
        trust: bool = True,
        module: str = "mlcycle.cli.app",
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        trusted = [arg for name in TRUST for arg in ("--trust", name)] if trust else []
        self.args = [
            sys.executable,
            "-m",
            module,
            "--tracking-uri",
            tracking_uri,
            "--artifact-uri",
            str(artifact_uri),
            *command,
            "--port",
            str(self.port),
            *trusted,
        ]
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServeProcess:
        return self.launch().wait_ready()

    def launch(self) -> ServeProcess:
        """Start the process without waiting (start several, then wait for each)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
        # this checkout's package (not whichever one the venv installed), and the test models
        env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (kept open while running)
        self.process = subprocess.Popen(self.args, stdout=self._log, stderr=self._log, env=env)
        return self

    def wait_ready(self) -> ServeProcess:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/v2/health/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the server did not get ready:\n{self.log()}")

    def stop(self) -> int:
        code = 0
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_cli(args: list[str], *, tracking_uri: str, artifact_uri: str | Path) -> Any:
    """Run ``mlcycle`` to completion (for commands that should refuse to start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcycle.cli.app",
            "--tracking-uri",
            tracking_uri,
            "--artifact-uri",
            str(artifact_uri),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total
