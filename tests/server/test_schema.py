"""Property-based checks of the whole API against its own OpenAPI document (schemathesis).

Every operation gets a bounded number of generated requests; each response must not be a
server error and must match what ``/openapi.json`` promises (status code, content type,
body schema). Generation is derandomized, so a failure repeats.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mlcycle.codec.metric_batches import BATCHES_MEDIA_TYPE
from tests.server.live import ServerProcess

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The binary metric body is bytes on the wire, like application/octet-stream.
schemathesis.serializer.alias(BATCHES_MEDIA_TYPE, "application/octet-stream")


@pytest.fixture(scope="module")
def sqlite_fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: the generated requests fill its store with odd data."""
    root = tmp_path_factory.mktemp("schema-server")
    server = ServerProcess(f"sqlite:///{root / 's.db'}", root / "art", root / "server.log")
    server.start()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgres"])
def fuzzed_server(request: pytest.FixtureRequest) -> ServerProcess:
    """On PostgreSQL, the session's server (other tests empty its tables before use)."""
    name = "sqlite_fuzz_server" if request.param == "sqlite" else "postgres_server"
    return cast(ServerProcess, request.getfixturevalue(name))


def _checker(strategy: st.SearchStrategy[Any], url: str) -> Callable[[], None]:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(base_url=url, checks=CHECKS, timeout=30)

    return check


def _known_ids(url: str) -> dict[str, str]:
    """An experiment and a run that exist, so requests also get past the ID lookup."""
    with httpx.Client(base_url=url) as api:
        exp = api.post("/api/v1/experiments", json={"name": f"fuzz-{uuid.uuid4().hex}"}).json()
        run = api.post("/api/v1/runs", json={"experiment_id": exp["id"]}).json()
        api.post(f"/api/v1/runs/{run['id']}/metrics", json={"metrics": [{"key": "m", "value": 1}]})
        api.put(f"/api/v1/runs/{run['id']}/artifacts/a.txt", content=b"a")
    return {"experiment_id": exp["id"], "run_id": run["id"]}


@pytest.mark.slow
def test_every_operation_honours_the_schema(fuzzed_server: ServerProcess) -> None:
    url = fuzzed_server.url
    known = _known_ids(url)
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would raise here
        operations += 1
        fixed = {k: v for k, v in known.items() if "{" + k + "}" in operation.path}
        # Random IDs mostly meet a 404; real ones take the request further in.
        for path_parameters in [None, fixed] if fixed else [None]:
            check = _checker(operation.as_strategy(path_parameters=path_parameters), url)
            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # collect all failures, then report
                failures.append(f"{operation.label} {path_parameters or ''}: {exc}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
