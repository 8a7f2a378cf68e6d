"""What a tracking server loads before it answers ``/health``: not pandas, pyarrow or
graphql-core (the dataset routes, the UI's parquet preview and ``/graphql`` import them on
first use). Measured figures are in the issue's closing note; this keeps the imports out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEFERRED = ("pandas", "pyarrow", "graphql", "sklearn", "scipy", "mlcycle.datasets.service")

PROBE = """
import sys
from starlette.testclient import TestClient
from mlcycle.server import create_app
from mlcycle.settings import Settings
app = create_app(Settings(tracking_uri="sqlite:///{root}/s.db", artifact_uri="{root}/a"))
with TestClient(app) as client:
    assert client.get("/health").status_code == 200
    print(" ".join(m for m in {deferred!r} if m in sys.modules))
    query = {{"query": "{{ test(inputString: \\"x\\") {{ output }} }}"}}
    answer = client.post("/graphql", json=query).json()
    assert answer == {{"data": {{"test": {{"output": "x"}}}}, "errors": None}}, answer
    assert client.get("/api/v1/datasets").status_code == 200
    print(" ".join(m for m in {deferred!r} if m in sys.modules))
"""


def test_a_healthy_server_has_not_loaded_pandas_pyarrow_or_graphql(tmp_path: Path) -> None:
    probe = PROBE.format(root=tmp_path, deferred=DEFERRED)
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    at_health, after_use = out.stdout.splitlines()
    assert at_health.split() == []
    # ... and the routes that need them still work, loading them then
    assert {"pandas", "pyarrow", "graphql"} <= set(after_use.split())
