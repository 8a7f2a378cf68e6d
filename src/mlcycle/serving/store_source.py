"""The store-backed :class:`~mlcycle.serving.sources.RouteSource`: a stored deployment,
read through the deployment service (``mlcycle.Client(...).deployments``): the local
service over a store, or a tracking server's routes for an http(s) tracking URI (the
model files then come through the server too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mlcycle
from mlcycle.client.models import load
from mlcycle.entities.deployments import Arm, ArmStats, Deployment
from mlcycle.models.loaded import LoadedModel
from mlcycle.serving.sources import (
    ArmTarget,
    FeedbackOutcome,
    KnownFn,
    resolve_uri,
    store_feedback,
)


class StoreRouteSource:
    """Serve the deployment ``name`` as stored; every read is one cheap query."""

    def __init__(self, name: str, *, client: mlcycle.Client, trusted: Sequence[str] = ()) -> None:
        self._name = name
        self._client = client
        self._trusted = list(trusted)
        self._options_trusted: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self._name

    def deployment(self) -> Deployment:
        deployment = self._client.deployments.get(self._name)
        self._options_trusted = deployment.options.trusted
        return deployment

    def resolve(self, arm: Arm) -> ArmTarget:
        return resolve_uri(self._client, arm)

    def load(self, target: ArmTarget) -> LoadedModel:
        trusted = [*self._trusted, *self._options_trusted]  # the process's and the deployment's
        return load(target.uri, trusted, client=self._client)

    def canary_tick(
        self, stats: Mapping[str, ArmStats], now_ms: int, expected_revision: int
    ) -> object | None:
        return self._client.deployments.canary_tick(
            self._name, stats, now_ms, expected_revision=expected_revision
        )

    def record_feedback(self, items: Sequence[tuple[str, Any]], known: KnownFn) -> FeedbackOutcome:
        return store_feedback(self._client, self._name, items, known)

    def close(self) -> None:
        self._client.close()
