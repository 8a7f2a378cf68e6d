"""The model registry's logic: registering versions, aliases, promotion gates, lineage.

:class:`RegistryService` works over the registry repository (a port) and the tracking
backend (for runs, experiments and model manifests); the client builds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mlcycle.clock import system_clock
from mlcycle.entities import (
    Experiment,
    GateResult,
    ModelLineage,
    ModelVersion,
    ModelVersionStatus,
    Promotion,
    RegisteredModel,
    RunInput,
    VersionComparison,
)
from mlcycle.entities.models import ModelSource
from mlcycle.errors import (
    ArtifactNotFoundError,
    InvalidInputError,
    NotFoundError,
    PromotionRefusedError,
)
from mlcycle.ids import new_id
from mlcycle.ports.backend import TrackingBackend
from mlcycle.ports.registry import RegistryRepository
from mlcycle.registry.gates import GateContext, GateLike, as_gate, default_gates
from mlcycle.types import Clock, IdFactory

MANIFEST_FILE = "model.json"
_NAME = re.compile(r"^[^/@\s][^/@]*$")
_ALIAS = re.compile(r"^[A-Za-z][\w\-]*$")
_RESERVED_ALIASES = frozenset({"latest"})

RunInputs = Callable[[str], Sequence[RunInput]]
ModelLoader = Callable[[ModelVersion], Any]


def check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name.strip()) or len(name) > 500:
        raise InvalidInputError(
            f"invalid registered model name {name!r}: 1-500 characters, no '/', '@' or "
            "leading space",
            field="name",
        )
    return name.strip()


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias) or len(alias) > 250:
        raise InvalidInputError(
            f"invalid alias {alias!r}: letters, digits, _ and -, a letter first", field="alias"
        )
    if alias in _RESERVED_ALIASES:
        raise InvalidInputError(f"the alias {alias!r} is reserved", field="alias")
    return alias


def check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInputError(
            f"invalid version {version!r}: a whole number from 1", field="version"
        )
    return version


class RegistryService:
    """Registered models and their versions (implements the ``ModelRegistry`` port)."""

    def __init__(
        self,
        repository: RegistryRepository,
        tracking: TrackingBackend,
        *,
        run_inputs: RunInputs | None = None,
        load_model: ModelLoader | None = None,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
    ) -> None:
        self.repository = repository
        self.tracking = tracking
        self._run_inputs = run_inputs
        self._load_model = load_model
        self._clock = clock
        self._new_id = new_id

    # -- models -----------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        now = self._clock()
        model = RegisteredModel(
            name=check_name(name),
            description=description,
            owner=owner,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            created_at=now,
            updated_at=now,
        )
        return self.repository.create_model(model, model_id=self._new_id())

    def get_model(self, name: str) -> RegisteredModel:
        return self.repository.get_model(name)

    def list_models(self, filter: str | None = None) -> list[RegisteredModel]:
        """Every registered model, by name; ``filter`` keeps names containing it
        (case-insensitive)."""
        models = self.repository.list_models()
        if filter:
            needle = filter.lower()
            models = [m for m in models if needle in m.name.lower()]
        return models

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        if tags:
            self.repository.set_model_tags(name, {str(k): str(v) for k, v in tags.items()})
        return self.repository.update_model(
            name, updated_at=self._clock(), description=description, owner=owner
        )

    # -- versions ---------------------------------------------------------------------------

    def register(
        self,
        name: str,
        source: ModelSource,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register the model logged at ``source`` as the next version of ``name``
        (created when missing). Reads its flavor and signature from the manifest.

        Raises NotFoundError when the run does not exist or holds no model there.
        """
        name = check_name(name)
        self.tracking.get_run(source.run_id)
        manifest = self._manifest(source)
        now = self._clock()
        version = ModelVersion(
            name=name,
            version=0,
            run_id=source.run_id,
            artifact_path=source.artifact_path,
            flavor=manifest.get("flavor"),
            signature=manifest.get("signature"),
            status=ModelVersionStatus.READY,
            description=description,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            created_at=now,
            updated_at=now,
        )
        return self.repository.create_version(
            version, model_id=self._new_id(), version_id=self._new_id()
        )

    def _manifest(self, source: ModelSource) -> dict[str, Any]:
        path = f"{source.artifact_path.strip('/')}/{MANIFEST_FILE}"
        try:
            with self.tracking.open_artifact(source.run_id, path) as f:
                data = json.loads(f.read())
        except ArtifactNotFoundError:
            raise ArtifactNotFoundError(
                f"run {source.run_id} has no model at {source.artifact_path!r} "
                f"(no {MANIFEST_FILE} there)",
                field="source",
            ) from None
        except ValueError as exc:
            raise InvalidInputError(f"{path} is not valid JSON: {exc}", field="source") from exc
        if not isinstance(data, dict):
            raise InvalidInputError(f"{path} must hold a JSON object", field="source")
        return data

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self.repository.get_version(name, check_version(version))

    def list_versions(self, name: str) -> list[ModelVersion]:
        return self.repository.list_versions(name)

    def resolve_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelVersion:
        """A version by number, by alias, or (neither given) the latest."""
        if version is not None and alias is not None:
            raise InvalidInputError("give a version or an alias, not both", field="alias")
        if alias is not None:
            return self.repository.alias_version(name, alias)
        if version is not None:
            return self.get_version(name, version)
        return self.repository.latest_version(name)

    def resolve(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelSource:
        return self.resolve_version(name, version=version, alias=alias).source

    def set_status(self, name: str, version: int, status: ModelVersionStatus | str) -> ModelVersion:
        """Set a version's status; a version turning FAILED or RETIRED loses its aliases."""
        try:
            new = ModelVersionStatus(status)
        except ValueError:
            choices = ", ".join(s.value for s in ModelVersionStatus)
            raise InvalidInputError(
                f"invalid status {status!r}: one of {choices}", field="status"
            ) from None
        current = self.get_version(name, version)
        if not new.can_hold_alias:
            for alias in current.aliases:
                self.repository.delete_alias(name, alias)
        return self.repository.update_version(name, version, updated_at=self._clock(), status=new)

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        if tags:
            self.repository.set_version_tags(
                name, version, {str(k): str(v) for k, v in tags.items()}
            )
        return self.repository.update_version(
            name, check_version(version), updated_at=self._clock(), description=description
        )

    # -- aliases ----------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it from another version).

        Raises InvalidInputError for a FAILED or RETIRED version.
        """
        alias = check_alias(alias)
        target = self.get_version(name, version)
        self._check_can_hold(target, alias)
        self.repository.set_alias(name, alias, target.version, at=self._clock())
        return self.repository.get_version(name, target.version)

    @staticmethod
    def _check_can_hold(version: ModelVersion, alias: str) -> None:
        if not version.status.can_hold_alias:
            raise InvalidInputError(
                f"version {version.version} of {version.name!r} is {version.status.value}: "
                f"it cannot hold the alias {alias!r}",
                field="version",
            )

    def delete_alias(self, name: str, alias: str) -> None:
        self.repository.delete_alias(name, alias)

    # -- promotion --------------------------------------------------------------------------

    def promote(
        self,
        name: str,
        version: int,
        alias: str = "champion",
        gates: Sequence[GateLike] | None = None,
        *,
        defaults: bool = True,
        tolerance: float = 0.0,
        force: bool = False,
        reason: str | None = None,
        load_model: ModelLoader | None = None,
    ) -> Promotion:
        """Check the gates, store every result with the version, and move ``alias`` to
        ``version`` when all pass (or when ``force`` is given with a ``reason``).

        Raises PromotionRefusedError listing every failed gate; InvalidInputError for a
        FAILED or RETIRED version, or ``force`` without a reason.
        """
        alias = check_alias(alias)
        if force and not (isinstance(reason, str) and reason.strip()):
            raise InvalidInputError("force=True needs a reason", field="reason")
        if tolerance < 0:
            raise InvalidInputError("tolerance must be >= 0", field="tolerance")
        candidate = self.get_version(name, version)
        self._check_can_hold(candidate, alias)
        checks = (default_gates(tolerance) if defaults else []) + [
            as_gate(g) for g in (gates or [])
        ]
        context = self._context(candidate, alias, load_model or self._load_model)
        now = self._clock()
        results = []
        for gate in checks:
            result = gate.check(context)
            results.append(result)
        failed = [r for r in results if not r.passed]
        forced = bool(failed) and force
        stored = tuple(
            GateResult(
                gate=r.gate,
                passed=r.passed,
                value=r.value,
                threshold=r.threshold,
                detail=r.detail,
                alias=alias,
                forced=forced,
                reason=reason.strip() if forced and reason else None,
                created_at=now,
            )
            for r in results
        )
        self.repository.add_gate_results(
            name, candidate.version, stored, ids=[self._new_id() for _ in stored]
        )
        if failed and not force:
            reasons = "; ".join(f"{r.gate}: {r.detail}" for r in failed)
            raise PromotionRefusedError(
                f"version {candidate.version} of {name!r} was not promoted to {alias!r}: "
                f"{len(failed)} gate(s) failed - {reasons}",
                results=list(stored),
            )
        previous = self.repository.set_alias(name, alias, candidate.version, at=now)
        return Promotion(
            name=name,
            version=candidate.version,
            alias=alias,
            previous=previous,
            results=stored,
            forced=forced,
            reason=reason.strip() if forced and reason else None,
        )

    def _context(
        self, candidate: ModelVersion, alias: str, load_model: ModelLoader | None
    ) -> GateContext:
        run = self.tracking.get_run(candidate.run_id)
        champion = champion_run = None
        champion_inputs: tuple[RunInput, ...] = ()
        try:
            champion = self.repository.alias_version(candidate.name, alias)
        except NotFoundError:
            champion = None
        if champion is not None:
            try:
                champion_run = self.tracking.get_run(champion.run_id)
            except NotFoundError:
                champion_run = None
            champion_inputs = self._inputs(champion.run_id)
        return GateContext(
            candidate=candidate,
            run=run,
            experiment=self._experiment(run.experiment_id),
            inputs=self._inputs(run.id),
            alias=alias,
            champion=champion,
            champion_run=champion_run,
            champion_inputs=champion_inputs,
            load_model=load_model,
        )

    def _experiment(self, experiment_id: str) -> Experiment | None:
        try:
            return self.tracking.get_experiment(experiment_id)
        except NotFoundError:
            return None

    def _inputs(self, run_id: str) -> tuple[RunInput, ...]:
        return tuple(self._run_inputs(run_id)) if self._run_inputs is not None else ()

    def gate_results(self, name: str, version: int) -> list[GateResult]:
        return self.repository.gate_results(name, check_version(version))

    # -- lineage and comparison ---------------------------------------------------------------

    def lineage(
        self, name: str, version: int | None = None, *, alias: str | None = None
    ) -> ModelLineage:
        """Version -> run -> experiment and dataset versions, in one call."""
        found = self.resolve_version(name, version=version, alias=alias)
        run = self.tracking.get_run(found.run_id)
        return ModelLineage(
            version=found,
            run=run,
            experiment=self._experiment(run.experiment_id),
            inputs=self._inputs(run.id),
        )

    def compare(self, name: str, v1: int, v2: int) -> VersionComparison:
        """Params, metrics and input dataset versions of two versions' runs side by side."""
        a, b = self.lineage(name, v1), self.lineage(name, v2)
        params = {
            k: (a.run.params.get(k), b.run.params.get(k))
            for k in sorted({*a.run.params, *b.run.params})
        }
        metrics = {
            k: (a.run.metrics.get(k), b.run.metrics.get(k))
            for k in sorted({*a.run.metrics, *b.run.metrics})
        }
        return VersionComparison(
            name=name,
            versions=(a.version.version, b.version.version),
            params=params,
            metrics=metrics,
            inputs=(a.inputs, b.inputs),
        )
