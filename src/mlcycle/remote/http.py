"""One HTTP session to a tracking server: keep-alive, retries with backoff, error mapping.

A failed request is retried with exponential backoff (and jitter) while the retry budget
lasts, when retrying cannot store anything twice: on connection errors that happened
before the request was sent, and, for idempotent requests (reads, PUTs, and metric
batches, which carry an ``Idempotency-Key``), also on lost connections, timeouts, 5xx and
429. The server's JSON errors become the :mod:`mlcycle.errors` class they name, so user
code catches the same exceptions locally and remotely.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import httpx
import orjson

from mlcycle import errors
from mlcycle.errors import FilterSyntaxError, MlcycleError, RemoteError

Content = bytes | Callable[[], Iterable[bytes]] | None

_ERRORS: dict[str, type[MlcycleError]] = {
    name: cls
    for name in errors.__all__
    if isinstance(cls := getattr(errors, name), type) and issubclass(cls, MlcycleError)
}
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_NOT_RETRIED_TYPES = frozenset({"SchemaOutdatedError"})  # waiting does not fix these


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How long a request keeps being retried: ``budget_s`` seconds in all, waiting
    ``initial_backoff_s``, then twice as long each time, up to ``max_backoff_s``."""

    budget_s: float = 10.0
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0


class _Failure(Exception):
    """One attempt failed; ``retryable`` says whether another may succeed."""

    def __init__(self, error: MlcycleError, retryable: bool, wait_s: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.wait_s = wait_s


def error_from_response(response: httpx.Response) -> MlcycleError:
    """The exception a server's error response stands for."""
    try:
        body = orjson.loads(response.content)["error"]
        kind, message = str(body["type"]), str(body["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        text = response.text[:200].strip() or response.reason_phrase
        return RemoteError(f"the tracking server answered {response.status_code}: {text}")
    field = body.get("field")
    field = None if field is None else str(field)
    cls = _ERRORS.get(kind)
    if cls is FilterSyntaxError:
        return FilterSyntaxError(message, position=int(body.get("position") or 0), field=field)
    if cls is None or cls is MlcycleError:
        request_id = body.get("request_id") or response.headers.get("x-request-id")
        suffix = f" (request ID {request_id})" if request_id else ""
        return RemoteError(
            f"the tracking server failed ({response.status_code} {kind}): {message}{suffix}",
            field=field,
        )
    return cls(message, field=field)


class HttpSession:
    """A thread-safe, lazily opened ``httpx.Client`` with the retry rules above."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._timeout = timeout or httpx.Timeout(60.0, connect=5.0)
        self._transport = transport
        self._headers: dict[str, str] = {}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        client = self._client
        if client is None:
            with self._lock:
                client = self._client
                if client is None:
                    self._headers.setdefault("User-Agent", _user_agent())
                    client = httpx.Client(
                        base_url=self.base_url,
                        headers=self._headers,
                        timeout=self._timeout,
                        transport=self._transport,
                        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                    )
                    self._client = client
        return client

    def close(self) -> None:
        """Close the connections; a later request opens new ones."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- requests ----------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: Content = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send a request (retrying as allowed) and return its successful response.

        Raises:
            MlcycleError: the class the server's error names, or RemoteError when the
            server cannot be reached within the retry budget or fails.
        """
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        all_headers = dict(headers or {})
        body: Content = content
        if json is not None:
            body = orjson.dumps(json)
            all_headers["Content-Type"] = "application/json"

        def attempt() -> httpx.Response:
            data = body() if callable(body) else body
            try:
                response = self.client.request(
                    method, path, content=data, params=params, headers=all_headers
                )
            except httpx.HTTPError as exc:
                raise self._transport_failure(exc, idempotent) from exc
            self._check(response, idempotent)
            return response

        return self._with_retries(attempt, f"{method} {path}")

    @contextmanager
    def stream(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed GET: the response body is read in pieces by the caller."""
        response: httpx.Response | None = None

        def attempt() -> httpx.Response:
            try:
                opened = self.client.send(
                    self.client.build_request(method, path, params=params), stream=True
                )
            except httpx.HTTPError as exc:
                raise self._transport_failure(exc, True) from exc
            if opened.is_error:
                opened.read()
                opened.close()
            self._check(opened, True)
            return opened

        response = self._with_retries(attempt, f"{method} {path}")
        try:
            yield response
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"the connection to the tracking server at {self.base_url} broke during "
                f"{method} {path}: {exc}"
            ) from exc
        finally:
            response.close()

    # -- retry machinery ---------------------------------------------------------------

    def _transport_failure(self, exc: httpx.HTTPError, idempotent: bool) -> _Failure:
        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        error = RemoteError(
            f"the tracking server at {self.base_url} could not be reached ({reason})"
        )
        return _Failure(error, retryable=not_sent or idempotent)

    def _check(self, response: httpx.Response, idempotent: bool) -> None:
        if response.is_success or (
            response.status_code == 307 and "location" in response.headers
        ):  # 307: a presigned URL for a direct download, which the caller follows
            return
        error = error_from_response(response)
        retryable = (
            idempotent
            and response.status_code in _RETRY_STATUS
            and type(error).__name__ not in _NOT_RETRIED_TYPES
        )
        raise _Failure(error, retryable, _retry_after(response))

    def _with_retries(self, attempt: Callable[[], httpx.Response], what: str) -> httpx.Response:
        policy = self.retry
        deadline = time.monotonic() + policy.budget_s
        backoff = policy.initial_backoff_s
        attempts = 0
        while True:
            attempts += 1
            try:
                return attempt()
            except _Failure as failure:
                wait = failure.wait_s if failure.wait_s is not None else backoff
                wait = min(wait, policy.max_backoff_s) * random.uniform(0.8, 1.2)
                left = deadline - time.monotonic()
                if not failure.retryable or left <= 0:
                    raise self._final(failure, attempts, policy.budget_s - left) from None
                time.sleep(min(wait, left))
                backoff = min(backoff * 2, policy.max_backoff_s)

    @staticmethod
    def _final(failure: _Failure, attempts: int, elapsed: float) -> MlcycleError:
        error = failure.error
        if attempts == 1 or not isinstance(error, RemoteError):
            return error
        return RemoteError(f"{error.message}; gave up after {attempts} attempts in {elapsed:.1f} s")


def _user_agent() -> str:
    try:
        return f"mlcycle/{metadata.version('mlcycle')} httpx/{httpx.__version__}"
    except metadata.PackageNotFoundError:
        return f"mlcycle httpx/{httpx.__version__}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
