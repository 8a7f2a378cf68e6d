"""The remote client is a client: it never imports the server, the store or FastAPI."""

from __future__ import annotations

import ast
from pathlib import Path

import mlcycle.remote

FORBIDDEN = ("mlcycle.server", "mlcycle.store", "fastapi", "starlette", "sqlalchemy", "uvicorn")


def test_remote_imports_no_server_side_code() -> None:
    for path in Path(mlcycle.remote.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"


def test_public_surface() -> None:
    assert sorted(mlcycle.remote.__all__) == ["RemoteBackend", "RetryPolicy"]
    for name in mlcycle.remote.__all__:
        assert getattr(mlcycle.remote, name).__doc__
