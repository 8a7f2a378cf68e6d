"""Every native route (``/api/v1``) documents its 2xx answer in OpenAPI, and what the
server really answers validates against that schema.

The answers are recorded at the ASGI edge of a real server (uvicorn on 127.0.0.1) while a
client walks the lifecycle through it, then each is checked against the schema its route
documents for its status, with the document's own components.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from jsonschema import Draft202012Validator

import mlcycle
from mlcycle.server import create_app
from mlcycle.settings import Settings
from tests.contract._setup import log_model_run
from tests.models._models import churn_frame
from tests.server.live import free_port, wait_healthy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Answer:
    method: str
    path: str
    status: int = 0
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)


class Recorder:
    """An ASGI wrapper keeping every JSON answer of the ``/api/v1`` routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.answers: list[Answer] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        answer = Answer(scope["method"], scope["path"])

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                headers = dict(message.get("headers") or [])
                answer.content_type = headers.get(b"content-type", b"").decode()
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, recording)
        self.answers.append(answer)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Recorder]]:
    root = tmp_path_factory.mktemp("schemas")
    settings = Settings.from_env(
        {
            "MLCYCLE_TRACKING_URI": f"sqlite:///{root / 's.db'}",
            "MLCYCLE_ARTIFACT_URI": str(root / "artifacts"),
        }
    )
    recorder = Recorder(create_app(settings))
    config = uvicorn.Config(
        recorder, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{config.port}"
    wait_healthy(url, timeout=60)
    yield url, recorder
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def document(served: tuple[str, Recorder]) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{served[0]}/openapi.json", timeout=120).json()
    return found


def _native(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        if path.startswith("/api/v1/"):
            for method, operation in operations.items():
                yield path, method, operation


def test_every_native_route_documents_a_2xx_answer(document: dict[str, Any]) -> None:
    undocumented = []
    for path, method, operation in _native(document):
        answers = operation["responses"]
        documented = [
            code
            for code, answer in answers.items()
            if code.startswith("2")
            and (code == "204" or any(c.get("schema") for c in answer.get("content", {}).values()))
        ]
        if not documented:
            undocumented.append(f"{method.upper()} {path}")
    assert not undocumented, "no 2xx schema:\n" + "\n".join(undocumented)
    assert len(list(_native(document))) > 100


def _walk_the_lifecycle(url: str, tmp_path: Path) -> None:
    """Runs, datasets, registry, deployments, monitoring and governance through a client
    of the server, as a team member would."""
    client = mlcycle.Client(url)
    try:
        client.create_experiment(
            "churn", task="classification", target="churned", primary_metric="roc_auc"
        )
        frame = churn_frame(200)
        data = client.datasets.register("churn", frame, description="churn table")
        client.datasets.list_datasets()
        client.datasets.list_versions("churn")
        client.datasets.get("churn")
        parts = client.datasets.split(data, test=0.25, seed=0)
        client.datasets.children(data)
        source = log_model_run(client, auc=0.9)
        client.datasets.log_input(source.run_id, parts["train"], context="train")
        client.datasets.runs_of(parts["train"])
        client.datasets.inputs_of(source.run_id)
        client.datasets.validations(data)
        version = client.registry.register("churn", source)
        client.registry.list_models()
        client.registry.list_versions("churn")
        client.registry.get_model("churn")
        client.registry.get_version("churn", version.version)
        client.registry.resolve_version("churn")
        client.registry.set_alias("churn", "staging", version.version)
        client.registry.check_gates("churn", version.version)
        client.registry.gate_results("churn", version.version)
        client.registry.promote("churn", version.version, force=True, reason="schema test")
        client.registry.lineage("churn", version.version)
        client.registry.compare("churn", version.version, version.version)
        client.deployments.create("churn", "models:/churn@champion")
        client.deployments.list()
        client.deployments.get("churn")
        client.deployments.status("churn")
        client.deployments.history("churn")
        client.deployments.feedback_for("churn")
        client.monitoring.create("churn-drift", "churn", window="1h", schedule="15m")
        client.monitoring.list_monitors()
        client.monitoring.get("churn-drift")
        client.monitoring.rules("churn-drift")
        client.monitoring.results("churn-drift")
        client.monitoring.retrains("churn-drift")
        client.monitoring.run("churn-drift")
        client.monitoring.alerts()
        client.governance.card("churn", version.version)
        client.governance.apply_retention(dry_run=True)
        client.governance.audit_events()
        client.governance.export_bundle("churn", version.version, tmp_path / "bundle.zip")
    finally:
        client.close()


def _route(document: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for template, operations in document["paths"].items():
        # {path} and {key} take slashes (``{path:path}`` in the routes).
        pattern = re.sub(r"\{(path|key)\}", ".+", template)
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", pattern)
        if re.fullmatch(pattern, path) and method.lower() in operations:
            found: dict[str, Any] = operations[method.lower()]
            return found
    return None


def test_real_answers_validate_against_their_documented_schema(
    served: tuple[str, Recorder], document: dict[str, Any], tmp_path: Path
) -> None:
    url, recorder = served
    _walk_the_lifecycle(url, tmp_path)
    checked: set[str] = set()
    for answer in recorder.answers:
        if not 200 <= answer.status < 300 or "json" not in answer.content_type:
            continue
        operation = _route(document, answer.method, answer.path)
        assert operation is not None, f"{answer.method} {answer.path} is not documented"
        documented = operation["responses"].get(str(answer.status))
        assert documented, f"{answer.method} {answer.path}: {answer.status} is not documented"
        schema = documented["content"]["application/json"]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [e.message for e in validator.iter_errors(orjson.loads(bytes(answer.body)))]
        assert not errors, f"{answer.method} {answer.path}: {errors[:3]}"
        checked.add(f"{answer.method} {operation['operationId']}")
    # Every capability's answers were seen, not only a few routes.
    for prefix in ("datasets", "models", "deployments", "monitors", "alerts", "governance"):
        assert any(prefix in c for c in checked), f"no answer of /api/v1/{prefix} was checked"
    assert len(checked) >= 40
