"""Live tracking servers for tests: a real ``python -m mlcycle.server`` process, or uvicorn
in a thread of the test process when a test needs a custom configuration."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import uvicorn
from sqlalchemy import text

from mlcycle.server import ServerConfig, create_app
from mlcycle.settings import Settings
from mlcycle.store.sql.schema import Base
from mlcycle.store.sql.store import SqlStore, open_store

START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, timeout: float = START_TIMEOUT_S, alive: object = None) -> float:
    """Poll ``/health`` until it answers 200; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if callable(alive) and not alive():
            raise RuntimeError(f"the server at {url} exited before answering")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"the server at {url} did not answer /health within {timeout} s")


def empty_store(store: SqlStore) -> None:
    """Delete every row of every table (children first)."""
    with store.db.engine.begin() as conn:
        if store.db.dialect == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


class ServerProcess:
    """``python -m mlcycle.server`` on a free 127.0.0.1 port, logging to a file."""

    def __init__(
        self,
        tracking_uri: str,
        artifact_uri: str | Path,
        log_path: Path,
        *,
        port: int | None = None,
        workers: int = 1,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_uri = str(artifact_uri)
        self.log_path = log_path
        self.port = port or free_port()
        self.workers = workers
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._store: SqlStore | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start and wait until ``/health`` answers; returns the seconds that took."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (kept open while running)
        command = [
            sys.executable,
            "-m",
            "mlcycle.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--tracking-uri",
            self.tracking_uri,
            "--artifact-uri",
            self.artifact_uri,
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "20",
            *self.extra_args,
        ]
        started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=self._log, env=env)
        process = self.process
        wait_healthy(self.url, alive=lambda: process.poll() is None)
        return time.monotonic() - started

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the process and wait for it; returns its exit code."""
        code = 0
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(sig)
            try:
                code = self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def reset(self) -> None:
        """Empty the store and the artifact folder behind the server."""
        if self._store is None:
            self._store = open_store(self.tracking_uri)
        empty_store(self._store)
        for folder in ("runs", "prediction-logs"):
            shutil.rmtree(Path(self.artifact_uri) / folder, ignore_errors=True)

    def close(self) -> None:
        self.stop()
        if self._store is not None:
            self._store.close()
            self._store = None


class ThreadServer:
    """uvicorn serving ``create_app(settings, config)`` in a thread of this process."""

    def __init__(self, settings: Settings, config: ServerConfig | None = None) -> None:
        app = create_app(settings, config)
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=free_port(),
                log_level="warning",
                access_log=False,
                ws="none",
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        self.url = f"http://127.0.0.1:{self._server.config.port}"
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self._thread.start()
        wait_healthy(self.url, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
