"""Fault injection for the S3 store: moto's S3 server (server mode, a real HTTP endpoint)
behind a small HTTP proxy that answers 503, answers late or drops the connection for the
requests a test picks, and forwards everything else unchanged.

moto has no fault injection of its own, so the faults live in the proxy; the store under
test talks to the proxy as it would to any S3 endpoint.

>>> with MotoS3() as moto, FaultProxy(moto.url) as proxy:  # doctest: +SKIP
...     proxy.inject("503", method="PUT", times=2)
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest

from tests.server.live import free_port

Fault = Literal["503", "drop", "slow"]
#: Requests a rule applies to: (method, path, query) -> bool.
Match = Callable[[str, str, str], bool]

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}
_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class MotoS3:
    """moto's S3 server on a free 127.0.0.1 port, in a thread of the test process."""

    def __init__(self) -> None:
        server = pytest.importorskip("moto.server")
        self.port = free_port()
        self._server: Any = server.ThreadedMotoServer(ip_address="127.0.0.1", port=self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> MotoS3:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def client(self) -> Any:
        """A boto3 client straight to moto (no faults), to look at what the store left."""
        boto3 = pytest.importorskip("boto3")
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        )


@dataclass
class _Rule:
    fault: Fault
    match: Match
    times: int | None  # None: every matching request
    delay_s: float = 0.0

    def take(self) -> bool:
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


@dataclass
class FaultProxy:
    """An HTTP proxy in front of ``upstream`` that injects faults into chosen requests.

    ``seen`` lists every request as ``(method, path?query, fault or "")``.
    """

    upstream: str
    seen: list[tuple[str, str, str]] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def environ(self) -> dict[str, str]:
        """The AWS variables that point a store at this proxy."""
        return {"AWS_ENDPOINT_URL": self.url, **CREDENTIALS}

    def inject(
        self,
        fault: Fault,
        *,
        method: str | None = None,
        query: str | None = None,
        times: int | None = None,
        delay_s: float = 0.0,
        match: Match | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``times`` requests (all, when None) with ``method``
        whose query string holds ``query``: a 503 SlowDown, a dropped connection (no
        answer at all), or an answer ``delay_s`` late."""

        def default(m: str, path: str, q: str) -> bool:
            return (method is None or m == method) and (query is None or query in q)

        with self._lock:
            self._rules.append(_Rule(fault, match or default, times, delay_s))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def count(self, method: str, fault: str | None = None) -> int:
        """Requests seen with ``method`` (and ``fault``, when given)."""
        return sum(1 for m, _, f in self.seen if m == method and (fault is None or f == fault))

    def _pick(self, method: str, path: str, query: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.match(method, path, query) and rule.take():
                    return rule
        return None

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        method = handler.command
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        rule = self._pick(method, path, query)
        self.seen.append((method, handler.path, rule.fault if rule else ""))
        if rule is not None and rule.fault == "503":
            handler.send_response(503)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(_SLOW_DOWN)))
            handler.end_headers()
            handler.wfile.write(_SLOW_DOWN)
            return
        if rule is not None and rule.fault == "drop":
            handler.close_connection = True
            with suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if rule is not None and rule.fault == "slow":
            time.sleep(rule.delay_s)
        status, headers, payload = self._forward(
            method, handler.path, dict(handler.headers.items()), body
        )
        try:
            handler.send_response(status)
            for name, value in headers:
                lowered = name.lower()
                if lowered not in _HOP_BY_HOP and (lowered != "content-length" or not payload):
                    handler.send_header(name, value)  # a HEAD keeps the object's length
            if payload:
                handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(payload)
        except OSError:  # the client gave up waiting (a timeout): nothing to answer
            handler.close_connection = True

    def _forward(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            connection.request(method, target, body=body or None, headers=sent)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


@contextmanager
def faulty_s3() -> Iterator[tuple[MotoS3, FaultProxy]]:
    """moto's S3 server with a fault proxy in front of it."""
    with MotoS3() as moto, FaultProxy(moto.url) as proxy:
        yield moto, proxy
