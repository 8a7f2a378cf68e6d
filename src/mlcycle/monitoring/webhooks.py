"""Webhook delivery of alerts: a JSON POST, signed with HMAC-SHA256 when the rule has a
secret, retried with exponential backoff.

The receiver checks the signature over the raw body it received::

    import hashlib, hmac
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    hmac.compare_digest(expected, request.headers["X-Mlcycle-Signature"])

Connection errors, time-outs, 408, 429 and 5xx answers are retried; other answers are final
(2xx delivered, anything else failed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mlcycle.errors import InvalidInputError
from mlcycle.ports.monitoring import WebhookPoster

SIGNATURE_HEADER = "X-Mlcycle-Signature"
EVENT_HEADER = "X-Mlcycle-Event"
DELIVERY_HEADER = "X-Mlcycle-Delivery"
_RETRY_STATUSES = frozenset({408, 429})


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=<hex HMAC-SHA256 of body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` is the HMAC of ``body`` under ``secret``."""
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """``attempts`` in all; before retry ``n`` (from 1) wait ``backoff_s * factor**(n-1)``
    seconds, at most ``max_backoff_s``."""

    attempts: int = 4
    backoff_s: float = 0.5
    factor: float = 2.0
    max_backoff_s: float = 30.0
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff_s < 0 or self.factor < 1 or self.timeout_s <= 0:
            raise InvalidInputError(
                "retry policy: attempts >= 1, backoff_s >= 0, factor >= 1, timeout_s > 0",
                field="retry",
            )

    def delay(self, retry: int) -> float:
        return float(min(self.backoff_s * self.factor ** (retry - 1), self.max_backoff_s))


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    status_code: int | None
    error: str | None


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


def deliver(
    poster: WebhookPoster,
    url: str,
    body: bytes,
    *,
    secret: str | None,
    event: str,
    delivery_id: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """POST ``body`` to ``url`` until it is accepted or the attempts run out."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mlcycle-webhook",
        EVENT_HEADER: event,
        DELIVERY_HEADER: delivery_id,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    status: int | None = None
    error: str | None = None
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1:
            sleep(policy.delay(attempt - 1))
        try:
            status = poster.post(url, body, headers, timeout=policy.timeout_s)
        except OSError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            continue
        if 200 <= status < 300:
            return Outcome(True, attempt, status, None)
        error = f"HTTP {status}"
        if status < 500 and status not in _RETRY_STATUSES:
            return Outcome(False, attempt, status, error)
    return Outcome(False, policy.attempts, status, error)


class HttpPoster:
    """:class:`WebhookPoster` over httpx; network errors become ``ConnectionError``, time-outs
    ``TimeoutError``. Redirects are not followed (a signed body goes where it was sent)."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *, timeout: float) -> int:
        try:
            response = httpx.post(url, content=body, headers=dict(headers), timeout=timeout)
        except httpx.TimeoutException as exc:
            raise TimeoutError(f"no answer from {url} within {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise ConnectionError(str(exc) or type(exc).__name__) from exc
        return response.status_code
