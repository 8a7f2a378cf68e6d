"""A server that is down: every HTTP backend gives one clear RemoteError after its bounded
retries, never a hang."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mlcycle.backends.http import (
    HttpDatasets,
    HttpDeployments,
    HttpGovernance,
    HttpMonitoring,
    HttpRegistry,
)
from mlcycle.errors import RemoteError
from mlcycle.remote.http import HttpSession, RetryPolicy
from tests.server.live import free_port


def test_every_backend_fails_fast_and_clearly_when_the_server_is_down() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    http = HttpSession(url, retry=RetryPolicy(budget_s=0.5, initial_backoff_s=0.05))
    calls: list[Callable[[], object]] = [
        HttpRegistry(http).list_models,
        HttpDeployments(http).list,
        HttpMonitoring(http).alerts,
        HttpDatasets(http).list_datasets,
        HttpGovernance(http).verify_audit,
    ]
    for call in calls:
        with pytest.raises(RemoteError, match="could not be reached") as info:
            call()
        assert url in str(info.value)  # within the retry budget, then one clear error
    http.close()
