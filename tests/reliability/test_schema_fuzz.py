"""schemathesis over every operation of ``/openapi.json``, with auth off and with auth on
(an admin's token, so requests get past the role check), a fixed seed and a few examples
an operation, valid and invalid ones mixed: never a 5xx. Status counts are printed
(``pytest -s``). The MLflow routes are not in the OpenAPI document; their bodies are
fuzzed by test_malformed_bodies.py."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mlcycle.codec.metric_batches import BATCHES_MEDIA_TYPE
from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import open_store
from tests.server.live import ServerProcess

EXAMPLES_PER_OPERATION = 3
SEED = 17

schemathesis.serializer.alias(BATCHES_MEDIA_TYPE, "application/octet-stream")


def _server(root: Path, *extra: str) -> Iterator[ServerProcess]:
    server = ServerProcess(
        f"sqlite:///{root / 's.db'}", root / "art", root / "server.log", extra_args=extra
    )
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _server(tmp_path_factory.mktemp("fuzz-open"))


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    yield from _server(tmp_path_factory.mktemp("fuzz-auth"), "--auth")


def _admin_headers(server: ServerProcess) -> dict[str, str]:
    store = open_store(server.tracking_uri)
    try:
        users = GovernanceService(store.governance).users
        name = f"fuzz-{uuid.uuid4().hex[:8]}"
        users.create_user(name, role="admin")
        return {"Authorization": f"Bearer {users.create_token(name).secret}"}
    finally:
        store.close()


def _known_ids(url: str, headers: dict[str, str]) -> dict[str, str]:
    """An experiment and a run that exist, so requests also get past the ID lookup."""
    with httpx.Client(base_url=url, headers=headers) as api:
        exp = api.post("/api/v1/experiments", json={"name": f"fuzz-{uuid.uuid4().hex}"}).json()
        run = api.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
    return {"experiment_id": exp["id"], "run_id": run["id"]}


def _fuzz(url: str, headers: dict[str, str]) -> tuple[int, Counter[int], list[str]]:
    document = httpx.get(f"{url}/openapi.json", headers=headers).json()
    schema = schemathesis.openapi.from_dict(document)
    known = _known_ids(url, headers)
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would raise here
        operations += 1
        fixed = {k: v for k, v in known.items() if "{" + k + "}" in operation.path}

        @seed(SEED)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=st.one_of(
                *(
                    operation.as_strategy(mode, path_parameters=fixed or None)
                    for mode in GenerationMode
                )
            )
        )
        def call(case: Any) -> None:
            response = case.call(base_url=url, headers=headers, timeout=60)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")

        call()
    return operations, statuses, errors


@pytest.mark.slow
@pytest.mark.parametrize("auth", ["off", "on"])
def test_schemathesis_over_every_operation_finds_no_5xx(
    auth: str, request: pytest.FixtureRequest
) -> None:
    server: ServerProcess = request.getfixturevalue(
        "auth_server" if auth == "on" else "open_server"
    )
    headers = _admin_headers(server) if auth == "on" else {}
    operations, statuses, errors = _fuzz(server.url, headers)
    print(
        f"schemathesis (auth {auth}, seed {SEED}): {operations} operations, "
        f"{sum(statuses.values())} requests, statuses {sorted(statuses.items())}"
    )
    assert operations >= 100
    assert not errors, "\n".join(errors[:20])
    assert statuses[401] == 0  # the token held throughout: the requests reached the routes
    assert "Traceback" not in server.log()
