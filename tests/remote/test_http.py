"""Retries, backoff and error mapping of the HTTP session, against a scripted transport."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from mlcycle.errors import (
    AlreadyExistsError,
    ArtifactNotFoundError,
    ConflictError,
    FilterSyntaxError,
    InvalidInputError,
    MlcycleError,
    NotFoundError,
    RemoteError,
    SchemaOutdatedError,
    StoreError,
)
from mlcycle.remote import RemoteBackend, RetryPolicy
from mlcycle.remote.http import HttpSession

FAST = RetryPolicy(budget_s=0.5, initial_backoff_s=0.01, max_backoff_s=0.05)

Handler = Callable[[httpx.Request], httpx.Response]


def _error(status: int, kind: str, message: str = "m", **extra: object) -> httpx.Response:
    return httpx.Response(status, json={"error": {"type": kind, "message": message, **extra}})


def _session(handler: Handler, retry: RetryPolicy = FAST) -> HttpSession:
    return HttpSession("http://testserver", retry=retry, transport=httpx.MockTransport(handler))


class Script:
    """Answers requests from a list, recording them."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (404, "NotFoundError", NotFoundError),
        (404, "ArtifactNotFoundError", ArtifactNotFoundError),
        (409, "AlreadyExistsError", AlreadyExistsError),
        (409, "ConflictError", ConflictError),
        (400, "InvalidInputError", InvalidInputError),
        (422, "InvalidInputError", InvalidInputError),
        (503, "SchemaOutdatedError", SchemaOutdatedError),
        (500, "InternalError", RemoteError),
        (418, "SomethingNew", RemoteError),
    ],
)
def test_errors_come_back_as_their_class(
    status: int, kind: str, expected: type[MlcycleError]
) -> None:
    script = Script(_error(status, kind, "the message", field="name", request_id="rid-1"))
    with pytest.raises(expected) as caught:
        _session(script, RetryPolicy(budget_s=0)).request("GET", "/x")
    assert type(caught.value) is expected
    assert "the message" in str(caught.value)
    assert caught.value.field == "name"
    if expected is RemoteError:
        assert "rid-1" in str(caught.value)


def test_filter_errors_keep_their_position() -> None:
    script = Script(_error(400, "FilterSyntaxError", "bad", field="filter", position=7))
    with pytest.raises(FilterSyntaxError) as caught:
        _session(script).request("POST", "/s", json={})
    assert caught.value.position == 7


def test_a_non_json_error_is_a_remote_error() -> None:
    script = Script(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(RemoteError, match="502"):
        _session(script, RetryPolicy(budget_s=0)).request("GET", "/x")


def test_idempotent_requests_are_retried_on_5xx_and_429() -> None:
    script = Script(
        _error(503, "StoreError"),
        httpx.Response(429, headers={"Retry-After": "0"}),
        _error(500, "InternalError"),
        httpx.Response(200, json={"ok": True}),
    )
    response = _session(script).request("GET", "/x")
    assert response.json() == {"ok": True}
    assert len(script.requests) == 4


def test_other_posts_are_not_retried_after_reaching_the_server() -> None:
    script = Script(_error(503, "StoreError"), httpx.Response(201, json={}))
    with pytest.raises(StoreError):
        _session(script).request("POST", "/api/v1/runs", json={})
    assert len(script.requests) == 1
    lost = Script(httpx.ReadError("connection reset"), httpx.Response(201, json={}))
    with pytest.raises(RemoteError, match="could not be reached"):
        _session(lost).request("POST", "/api/v1/runs", json={})
    assert len(lost.requests) == 1


def test_connection_errors_are_retried_for_every_request() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(201, json={"id": "1"}))
    assert _session(script).request("POST", "/api/v1/runs", json={}).status_code == 201
    assert len(script.requests) == 2


def test_the_budget_bounds_the_retries() -> None:
    script = Script(httpx.ConnectError("[Errno 111] Connection refused"))
    started = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        _session(script).request("GET", "/x")
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 3
    assert len(script.requests) > 3
    message = str(caught.value)
    assert "http://testserver could not be reached" in message
    assert "Connection refused" in message
    assert f"after {len(script.requests)} attempts" in message


def test_schema_errors_are_not_retried() -> None:
    script = Script(_error(503, "SchemaOutdatedError", "run mlcycle db upgrade"))
    with pytest.raises(SchemaOutdatedError):
        _session(script).request("GET", "/x")
    assert len(script.requests) == 1


def test_a_closed_session_reopens() -> None:
    script = Script(httpx.Response(200, json={}))
    session = _session(script)
    session.request("GET", "/x")
    session.close()
    session.request("GET", "/x")
    assert len(script.requests) == 2


def test_token_and_user_agent_are_sent() -> None:
    script = Script(httpx.Response(200, json={"experiments": []}))
    backend = RemoteBackend(
        "http://testserver", token="s3cret", transport=httpx.MockTransport(script)
    )
    assert backend.list_experiments() == []
    request = script.requests[0]
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.headers["User-Agent"].startswith("mlcycle/")
    assert request.url.params["include_deleted"] == "false"


def test_ids_with_slashes_name_nothing() -> None:
    script = Script(httpx.Response(200, json={}))
    backend = RemoteBackend("http://testserver", transport=httpx.MockTransport(script))
    with pytest.raises(NotFoundError):
        backend.get_run("a/b")
    assert script.requests == []
    backend.delete_tag("r1", "a/../b c")
    assert script.requests[0].url.raw_path == b"/api/v1/runs/r1/tags/a/%2E%2E/b%20c"
