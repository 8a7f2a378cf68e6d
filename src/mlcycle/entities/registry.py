"""The model registry: registered models, their versions, aliases and promotion gates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlcycle.entities import _html
from mlcycle.entities.datasets import RunInput
from mlcycle.entities.experiments import Experiment
from mlcycle.entities.models import ModelSource
from mlcycle.entities.runs import Run


class ModelVersionStatus(StrEnum):
    """Where a model version is in its life.

    A version is READY once its files are logged; FAILED when registration or checks
    failed; ARCHIVED when kept but no longer a candidate; RETIRED at the end of its life.
    FAILED and RETIRED versions cannot hold an alias.
    """

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    ARCHIVED = "archived"
    RETIRED = "retired"

    @property
    def can_hold_alias(self) -> bool:
        return self not in (ModelVersionStatus.FAILED, ModelVersionStatus.RETIRED)


@dataclass(frozen=True, kw_only=True)
class RegisteredModel:
    """A named model whose versions are numbered from 1.

    ``aliases`` maps each alias (``champion``, ``challenger``...) to a version number.
    """

    name: str
    description: str | None = None
    owner: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    created_at: int = 0
    updated_at: int = 0
    latest_version: int | None = None
    aliases: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ModelVersion:
    """One version of a registered model: a model logged in a run.

    ``model_uri`` is where the files are (``runs:/<run_id>/<path>``); ``uri`` is the
    version's registry URI (``models:/<name>/<version>``).
    """

    name: str
    version: int
    run_id: str
    artifact_path: str
    flavor: str | None = None
    signature: Mapping[str, Any] | None = None
    status: ModelVersionStatus = ModelVersionStatus.READY
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    created_at: int = 0
    updated_at: int = 0

    @property
    def source(self) -> ModelSource:
        return ModelSource(self.run_id, self.artifact_path)

    @property
    def model_uri(self) -> str:
        return self.source.uri

    def _repr_html_(self) -> str:
        pairs: list[tuple[str, object]] = [
            ("Status", self.status.value),
            ("Aliases", ", ".join(self.aliases) or None),
            ("Flavor", self.flavor),
            ("Run", self.run_id),
            ("Files", self.model_uri),
            ("Description", self.description),
        ]
        return _html.details(f"{_html.fmt(self.name)} version {self.version}", pairs)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "artifact_path": self.artifact_path,
            "model_uri": self.model_uri,
            "flavor": self.flavor,
            "signature": dict(self.signature) if self.signature is not None else None,
            "status": self.status.value,
            "description": self.description,
            "tags": dict(self.tags),
            "aliases": list(self.aliases),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """The outcome of one promotion gate for a version.

    ``value`` is what was measured, ``threshold`` the limit it was held to; ``detail``
    says why it passed or failed. ``forced`` and ``reason`` record a promotion forced past
    failing gates.
    """

    gate: str
    passed: bool
    value: float | None = None
    threshold: float | None = None
    detail: str = ""
    alias: str | None = None
    forced: bool = False
    reason: str | None = None
    created_at: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "passed": self.passed,
            "value": self.value,
            "threshold": self.threshold,
            "detail": self.detail,
            "alias": self.alias,
            "forced": self.forced,
            "reason": self.reason,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, kw_only=True)
class Promotion:
    """A promotion that happened: the alias now points at ``version``.

    ``previous`` is the version the alias pointed at before (None: it was new);
    ``results`` are the gates' results as stored with the version.
    """

    name: str
    version: int
    alias: str
    previous: int | None
    results: tuple[GateResult, ...]
    forced: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "previous": self.previous,
            "forced": self.forced,
            "reason": self.reason,
            "gates": [r.to_dict() for r in self.results],
        }


@dataclass(frozen=True, kw_only=True)
class ModelLineage:
    """Where a model version comes from: its run, the run's experiment, and the dataset
    versions the run used (with their context: ``train``, ``eval``...)."""

    version: ModelVersion
    run: Run
    experiment: Experiment | None
    inputs: tuple[RunInput, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.version.to_dict(),
            "run": {
                "id": self.run.id,
                "name": self.run.name,
                "status": self.run.status.value,
                "experiment_id": self.run.experiment_id,
                "params": dict(self.run.params),
                "metrics": dict(self.run.metrics),
            },
            "experiment": None if self.experiment is None else self.experiment.name,
            "inputs": [
                {
                    "name": i.name,
                    "version": i.version,
                    "digest": i.digest,
                    "context": i.context,
                    "version_id": i.version_id,
                }
                for i in self.inputs
            ],
        }


@dataclass(frozen=True, kw_only=True)
class VersionComparison:
    """Two versions of a model side by side: ``params`` and ``metrics`` map each key to
    ``(value in the first, value in the second)`` (None where one lacks it); ``inputs``
    are the dataset versions each one's run used."""

    name: str
    versions: tuple[int, int]
    params: Mapping[str, tuple[str | None, str | None]]
    metrics: Mapping[str, tuple[float | None, float | None]]
    inputs: tuple[tuple[RunInput, ...], tuple[RunInput, ...]]

    def to_dict(self) -> dict[str, Any]:
        def inputs(items: tuple[RunInput, ...]) -> list[dict[str, Any]]:
            return [{"name": i.name, "version": i.version, "context": i.context} for i in items]

        return {
            "name": self.name,
            "versions": list(self.versions),
            "params": {k: list(v) for k, v in self.params.items()},
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "inputs": [inputs(self.inputs[0]), inputs(self.inputs[1])],
        }
