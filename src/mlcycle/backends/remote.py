"""The backend of a tracking server (an ``http(s)://`` tracking URI).

Tracking goes through :class:`~mlcycle.remote.RemoteBackend`; every other capability
through its HTTP implementation in :mod:`mlcycle.backends.http` (``HttpDatasets``,
``HttpRegistry``, ``HttpDeployments``, ``HttpMonitoring``, ``HttpGovernance``), each built
from the one :class:`~mlcycle.remote.http.HttpSession` of the tracking backend. A
capability without an HTTP implementation is simply not offered: the backend refuses it
in one place (:meth:`mlcycle.backends.Backend.require`).

Governance without ``HttpGovernance`` is the server's governance API
(:class:`~mlcycle.remote.governance.RemoteGovernance`) with model cards and bundles
gathered through the backend's other APIs (:class:`ServerGovernance`).

    >>> backend = remote_backend(Settings.from_env({"MLCYCLE_TRACKING_URI": "http://h:5000"}))
    >>> backend.supports("registry")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from mlcycle.backends.base import Backend, Capability, Provider
from mlcycle.backends.cards import ModelCards
from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.governance import RetentionReport
from mlcycle.errors import CapabilityUnavailableError
from mlcycle.governance.retirement import (
    DEFAULT_PREDICTION_LOG_RETENTION,
    DEFAULT_RETIRED_ARTIFACT_RETENTION,
)
from mlcycle.remote import RemoteBackend
from mlcycle.remote.governance import RemoteGovernance
from mlcycle.remote.http import HttpSession
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


class ServerGovernance(RemoteGovernance):
    """The server's governance API, with model cards, card fields and bundles gathered
    through the backend's APIs (the registry among them, when the server serves it)."""

    def __init__(self, http: HttpSession, backend: Backend) -> None:
        super().__init__(http)
        self._cards = ModelCards(backend, self)
        self._where = backend.where

    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion:
        return self._cards.set_card_fields(name, version, **fields)

    def card(self, name: str, version: int) -> ModelCard:
        return self._cards.card(name, version)

    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]:
        return self._cards.export_bundle(name, version, path)

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = DEFAULT_RETIRED_ARTIFACT_RETENTION,
        prediction_logs: str | timedelta | int = DEFAULT_PREDICTION_LOG_RETENTION,
        dry_run: bool = False,
    ) -> RetentionReport:
        raise CapabilityUnavailableError(
            f"retention not available on {self._where}: it deletes files in the server's "
            "artifact store; run `mlcycle gc` against the store itself",
            capability=Capability.GOVERNANCE.value,
            field="tracking_uri",
        )


def remote_backend(settings: Settings) -> Backend:
    """The backend of the server at ``settings.tracking_uri`` (no I/O until first use)."""
    tracking = RemoteBackend(settings.tracking_uri, token=settings.token)
    http = tracking.http
    providers: dict[Capability, Provider] = {
        cap: partial(cls, http) for cap, cls in http_implementations().items()
    }
    backend = Backend(
        tracking=tracking,
        providers=providers,
        where=f"the server {settings.tracking_uri}",
        closer=tracking.close,
    )
    if Capability.GOVERNANCE not in providers:
        backend.offer(Capability.GOVERNANCE, lambda: ServerGovernance(http, backend))
    weakref.finalize(backend, tracking.close)  # its connections go with it
    return backend
