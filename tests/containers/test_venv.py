"""The build context's entry point, for real, outside Docker: a fresh virtual environment
is made from the context's own lock file and wheel (the Dockerfile's pip steps), then the
Dockerfile's ENTRYPOINT + CMD serves the model. Its answers must equal the model's, and
its health endpoints and HEALTHCHECK must answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

import mlcycle
from mlcycle.containers import build_context
from tests.containers._dockerfile import exec_form, pip_steps
from tests.containers.conftest import Registered
from tests.models._models import FEATURES, churn_frame
from tests.server.live import free_port

START_TIMEOUT_S = 120.0


def _venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder / "bin" / "python"


def _clean_env(artifacts: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLCYCLE_", "PYTHON", "VIRTUAL_ENV"))
    }
    env["MLCYCLE_ARTIFACT_URI"] = str(artifacts)
    return env


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the entry point did not get ready:\n{log.read_text()}")


@pytest.mark.slow
def test_the_entry_point_serves_the_model_from_a_venv_made_of_the_lock(
    registered: Registered, tmp_path: Path
) -> None:
    uri = registered.churn.uri
    context = tmp_path / "context"
    built = build_context(uri, context, client=registered.client)  # hashes from the index
    dockerfile = (context / "Dockerfile").read_text()
    python = _venv(tmp_path / "venv")
    env = _clean_env(tmp_path / "artifacts")
    steps = pip_steps(dockerfile)
    assert len(steps) == 2  # the lock, then mlcycle's wheel
    for step in steps:
        assert step[0] == "python"
        subprocess.run([str(python), *step[1:]], cwd=context, env=env, check=True)
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    installed = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert installed - {"pip", "setuptools"} == {*built.lock.names(), "mlcycle"}

    port = free_port()
    command = [
        str(python) if arg == "python" else str(context) if arg == "/opt/mlcycle" else arg
        for arg in exec_form(dockerfile, "ENTRYPOINT")
    ] + ["--host", "127.0.0.1", "--port", str(port)]
    assert exec_form(dockerfile, "CMD") == ["--host", "0.0.0.0", "--port", "8080"]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log)
        model = mlcycle.models.load(uri, client=registered.client)
        frame = churn_frame(25, seed=9)[FEATURES]
        records = json.loads(frame.to_json(orient="records"))
        with httpx.Client(base_url=base, timeout=30) as http:
            for path in (
                "/v2/health/live",
                "/v2/health/ready",
                "/ping",
                f"/v2/models/{built.spec.name}/ready",
            ):
                assert http.get(path).status_code == 200, path
            answer = http.post("/invocations", json={"dataframe_records": records})
            assert answer.status_code == 200, answer.text
            assert answer.headers["x-model-version"] == str(registered.churn.version)
            assert answer.json()["predictions"] == model.predict(frame).tolist()
            infer = http.post(
                f"/v2/models/{built.spec.name}/infer",
                json={
                    "inputs": [
                        {
                            "name": c,
                            "shape": [len(frame)],
                            "datatype": "BYTES" if c == "plan" else "FP64",
                            "data": frame[c].tolist(),
                        }
                        for c in FEATURES
                    ]
                },
            )
            assert infer.status_code == 200, infer.text
            outputs = {o["name"]: o for o in infer.json()["outputs"]}
            proba = np.asarray(outputs["predict_proba"]["data"]).reshape(len(frame), -1)
            np.testing.assert_allclose(proba, model.predict_proba(frame))
            bad = http.post("/invocations", json={"dataframe_records": [{"tenure": "x"}]})
            assert bad.status_code == 422
            assert "tenure" in bad.text
            assert "mlcycle_serving_requests_total" in http.get("/metrics").text
        health = [
            str(python) if arg == "python" else arg for arg in exec_form(dockerfile, "HEALTHCHECK")
        ]
        health[-1] = str(port)
        assert subprocess.run(health, env=env, check=False).returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    logged = list((tmp_path / "artifacts" / "prediction-logs").rglob("*.parquet"))
    assert logged, log.read_text()
