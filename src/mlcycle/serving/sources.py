"""Where a serving process learns what to serve: a :class:`RouteSource`.

A source gives the current deployment configuration (its arms, strategy, options and
revision) and resolves each arm to the model files it names now, cheaply enough to be
polled every second. :class:`StaticRouteSource` serves one model URI (``mlcycle serve``);
the store-backed source (:mod:`mlcycle.serving.store_source`) serves a stored deployment.
Feedback and canary ticks go to the deployment service (``mlcycle.Client().deployments``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import mlcycle
from mlcycle.client.models import load
from mlcycle.deployments.feedback_items import parse_feedback
from mlcycle.entities.deployments import Arm, ArmStats, Deployment, ServingOptions
from mlcycle.entities.registry import ModelVersionStatus
from mlcycle.errors import ModelRetiredError
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.uris import LocalModelUri, RegisteredModelUri, RunModelUri, parse_model_uri

DEFAULT_ARM = "default"


@dataclass(frozen=True, kw_only=True)
class ArmTarget:
    """An arm resolved now: the model files it serves.

    ``key`` names the files (two arms with the same key share one loaded model); ``uri``
    loads them; ``name``/``version`` are the registered model and version (version None
    outside the registry); ``label`` is what the ``x-model-version`` header shows;
    ``retired`` says why the version may no longer serve (requests get 410).
    """

    arm: Arm
    key: str
    uri: str
    name: str
    version: int | None
    label: str
    retired: str | None = None


@dataclass(frozen=True, kw_only=True)
class FeedbackOutcome:
    """What storing feedback did: how many labels were stored, which IDs are unknown."""

    stored: int
    unknown: tuple[str, ...] = ()


KnownFn = Callable[[str], bool]


class RouteSource(Protocol):
    """What the serving runtime needs to know and to report."""

    @property
    def name(self) -> str:
        """The served name (the OIP model name, the prediction log's deployment)."""
        ...

    def deployment(self) -> Deployment:
        """The current configuration (a cheap read; called every poll)."""
        ...

    def resolve(self, arm: Arm) -> ArmTarget:
        """What ``arm`` serves now. Raises NotFoundError when it names nothing."""
        ...

    def load(self, target: ArmTarget) -> LoadedModel:
        """Load the model files of ``target``."""
        ...

    def canary_tick(
        self, stats: Mapping[str, ArmStats], now_ms: int, expected_revision: int
    ) -> object | None:
        """Judge a running canary on ``stats``; returns the event when it moved."""
        ...

    def record_feedback(self, items: Sequence[tuple[str, Any]], known: KnownFn) -> FeedbackOutcome:
        """Store ground-truth labels for answered requests."""
        ...

    def close(self) -> None: ...


def resolve_uri(client: mlcycle.Client, arm: Arm) -> ArmTarget:
    """Resolve ``arm.model_uri`` through ``client``'s registry (``models:/`` URIs)."""
    parsed = parse_model_uri(arm.model_uri)
    if isinstance(parsed, RegisteredModelUri):
        version = client.registry.resolve_version(
            parsed.name, version=parsed.version, alias=parsed.alias
        )
        retired = None
        if version.status is ModelVersionStatus.RETIRED:
            retired = f"model version {version.name}/{version.version} is retired"
        key = f"models:/{version.name}/{version.version}"
        return ArmTarget(
            arm=arm,
            key=key,
            uri=key,
            name=version.name,
            version=version.version,
            label=str(version.version),
            retired=retired,
        )
    if isinstance(parsed, RunModelUri):
        uri = str(parsed)
        name = parsed.artifact_path.rstrip("/").rsplit("/", 1)[-1]
        return ArmTarget(arm=arm, key=uri, uri=uri, name=name, version=None, label=uri)
    assert isinstance(parsed, LocalModelUri)
    path = Path(parsed.path).expanduser().resolve()
    return ArmTarget(
        arm=arm, key=str(path), uri=str(path), name=path.name, version=None, label=path.name
    )


def check_servable(target: ArmTarget) -> None:
    """Refuse a retired version (ModelRetiredError) before a server starts on it."""
    if target.retired is not None:
        raise ModelRetiredError(
            f"cannot serve {target.arm.model_uri}: {target.retired}", field="model_uri"
        )


class StaticRouteSource:
    """One model URI, served under one name. An alias URI is followed: when the alias
    moves, the new version is served (the configuration itself never changes)."""

    def __init__(
        self,
        uri: str,
        *,
        client: mlcycle.Client,
        name: str | None = None,
        options: ServingOptions | None = None,
        trusted: Sequence[str] = (),
    ) -> None:
        self._client = client
        self._trusted = [*trusted, *(options.trusted if options else ())]
        arm = Arm(name=DEFAULT_ARM, model_uri=uri)
        self._name = name or resolve_uri(client, arm).name
        self._deployment = Deployment(
            name=self._name, model_uri=uri, arms=(arm,), options=options or ServingOptions()
        )

    @property
    def name(self) -> str:
        return self._name

    def deployment(self) -> Deployment:
        return self._deployment

    def resolve(self, arm: Arm) -> ArmTarget:
        return resolve_uri(self._client, arm)

    def load(self, target: ArmTarget) -> LoadedModel:
        return load(target.uri, self._trusted, client=self._client)

    def canary_tick(
        self, stats: Mapping[str, ArmStats], now_ms: int, expected_revision: int
    ) -> object | None:
        return None  # one model, no rollout

    def record_feedback(self, items: Sequence[tuple[str, Any]], known: KnownFn) -> FeedbackOutcome:
        return store_feedback(self._client, self._name, items, known)

    def close(self) -> None:
        self._client.close()


def store_feedback(
    client: mlcycle.Client, deployment: str, items: Sequence[tuple[str, Any]], known: KnownFn
) -> FeedbackOutcome:
    """Store labels through the deployment service; IDs ``known`` rejects are reported.

    ``known`` is asked here, in the serving process (it knows what it answered), and only
    the known labels are sent: the same whether the service is local or a server's.
    """
    checked, unknown = parse_feedback(deployment, items, known, at=0)
    result = client.deployments.record_feedback(
        deployment, [(f.request_id, f.label) for f in checked]
    )
    return FeedbackOutcome(stored=result.stored, unknown=(*unknown, *result.unknown))
