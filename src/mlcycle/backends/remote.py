"""The backend of a tracking server (an ``http(s)://`` tracking URI).

Tracking goes through :class:`~mlcycle.remote.RemoteBackend`; every other capability
through its HTTP implementation in :mod:`mlcycle.backends.http` (``HttpDatasets``,
``HttpRegistry``, ``HttpDeployments``, ``HttpMonitoring``, ``HttpGovernance``), each built
from the one :class:`~mlcycle.remote.http.HttpSession` of the tracking backend. A
capability without an HTTP implementation is simply not offered: the backend refuses it
in one place (:meth:`mlcycle.backends.Backend.require`).

    >>> backend = remote_backend(Settings.from_env({"MLCYCLE_TRACKING_URI": "http://h:5000"}))
    >>> backend.supports("registry")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

from mlcycle.backends.base import Backend, Capability, Provider
from mlcycle.remote import RemoteBackend
from mlcycle.remote.http import HttpSession, RetryPolicy
from mlcycle.settings import Settings

#: The HTTP implementation of each capability: a class in mlcycle.backends.http built
#: from an HttpSession.
HTTP_CLASSES: dict[Capability, str] = {
    Capability.DATASETS: "HttpDatasets",
    Capability.REGISTRY: "HttpRegistry",
    Capability.DEPLOYMENTS: "HttpDeployments",
    Capability.MONITORING: "HttpMonitoring",
    Capability.GOVERNANCE: "HttpGovernance",
}


def http_implementations() -> dict[Capability, Callable[[HttpSession], Any]]:
    """The HTTP implementations present in :mod:`mlcycle.backends.http`, by capability."""
    try:
        package = importlib.import_module("mlcycle.backends.http")
    except ModuleNotFoundError:
        return {}
    found = {cap: getattr(package, name, None) for cap, name in HTTP_CLASSES.items()}
    return {cap: cls for cap, cls in found.items() if cls is not None}


def _http_logs(http: HttpSession) -> Any:
    from mlcycle.backends.http.prediction_logs import HttpPredictionLogs

    return HttpPredictionLogs(http)


def remote_backend(settings: Settings) -> Backend:
    """The backend of the server at ``settings.tracking_uri`` (no I/O until first use)."""
    tracking = RemoteBackend(
        settings.tracking_uri,
        token=settings.token,
        retry=RetryPolicy(
            budget_s=settings.writer_retry_s, max_backoff_s=settings.writer_backoff_max_s
        ),
    )
    http = tracking.http
    providers: dict[Capability, Provider] = {
        cap: partial(cls, http) for cap, cls in http_implementations().items()
    }
    backend = Backend(
        tracking=tracking,
        providers=providers,
        logs=partial(_http_logs, http) if Capability.DEPLOYMENTS in providers else None,
        where=f"the server {settings.tracking_uri}",
        closer=tracking.close,
    )
    weakref.finalize(backend, tracking.close)  # its connections go with it
    return backend
