"""Webhook delivery to a real HTTP receiver on 127.0.0.1: the HMAC-SHA256 signature, and
retries with exponential backoff when the receiver fails."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.monitoring.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    HttpPoster,
    RetryPolicy,
    deliver,
    encode,
    sign,
    verify,
)
from tests.monitoring._receiver import Receiver
from tests.server.live import free_port

BODY = encode({"event": "alert.fired", "alert": {"id": "a1", "message": "drift"}})


def test_signature_is_hmac_sha256_of_the_body() -> None:
    expected = hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert sign("s3cret", BODY) == f"sha256={expected}"
    assert verify("s3cret", BODY, f"sha256={expected}")
    assert not verify("other", BODY, f"sha256={expected}")


def test_a_signed_post_is_retried_until_the_receiver_accepts_it() -> None:
    waits: list[float] = []
    with Receiver(fail_first=2) as receiver:
        outcome = deliver(
            HttpPoster(),
            receiver.url,
            BODY,
            secret="s3cret",
            event="alert.fired",
            delivery_id="d1",
            policy=RetryPolicy(attempts=4, backoff_s=0.01, factor=2.0),
            sleep=waits.append,
        )
    assert outcome.delivered
    assert outcome.attempts == 3
    assert outcome.status_code == 204
    assert waits == [0.01, 0.02]  # exponential backoff between the attempts
    assert [r.status for r in receiver.requests] == [500, 500, 204]
    for request in receiver.requests:  # every attempt carries the same signed body
        assert request.body == BODY
        assert verify("s3cret", request.body, request.headers[SIGNATURE_HEADER])
        assert request.headers[DELIVERY_HEADER] == "d1"
        assert request.headers["Content-Type"] == "application/json"


def test_no_secret_no_signature() -> None:
    with Receiver() as receiver:
        outcome = deliver(
            HttpPoster(),
            receiver.url,
            BODY,
            secret=None,
            event="e",
            delivery_id="d",
            policy=RetryPolicy(attempts=1),
        )
    assert outcome.delivered
    assert SIGNATURE_HEADER not in receiver.requests[0].headers


def test_attempts_run_out_against_a_failing_receiver() -> None:
    with Receiver(fail_first=10) as receiver:
        outcome = deliver(
            HttpPoster(),
            receiver.url,
            BODY,
            secret="k",
            event="e",
            delivery_id="d",
            policy=RetryPolicy(attempts=3, backoff_s=0.0),
        )
    assert not outcome.delivered
    assert (outcome.attempts, outcome.status_code, outcome.error) == (3, 500, "HTTP 500")
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_is_a_failed_delivery_not_an_exception() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    outcome = deliver(
        HttpPoster(),
        url,
        BODY,
        secret=None,
        event="e",
        delivery_id="d",
        policy=RetryPolicy(attempts=2, backoff_s=0.0, timeout_s=2.0),
    )
    assert not outcome.delivered
    assert outcome.attempts == 2
    assert outcome.status_code is None
    assert outcome.error is not None
    assert "ConnectionError" in outcome.error


def test_a_bad_retry_policy_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="attempts >= 1"):
        RetryPolicy(attempts=0)
    assert RetryPolicy(backoff_s=1.0, factor=3.0, max_backoff_s=5.0).delay(3) == 5.0
