"""The model registry's logic: registering versions, aliases, promotion gates, lineage.

:class:`RegistryService` works over the registry repository (a port) and the tracking
backend (for runs, experiments and model manifests); the client builds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
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
from mlcycle.entities.governance import RETIRED_REASON_TAG, ApprovalKind
from mlcycle.entities.models import ModelSource
from mlcycle.errors import (
    ArtifactNotFoundError,
    InvalidInputError,
    ModelRetiredError,
    NotFoundError,
    PromotionRefusedError,
)
from mlcycle.ids import new_id
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.backend import TrackingBackend
from mlcycle.ports.governance import ChangeGuard
from mlcycle.ports.registry import RegistryRepository
from mlcycle.registry.gates import GateContext, GateLike, Scorer, as_gate, default_gates
from mlcycle.types import Clock, IdFactory

MANIFEST_FILE = "model.json"
_NAME = re.compile(r"^[^/@\s][^/@]*$")
_ALIAS = re.compile(r"^[A-Za-z][\w\-]*$")
_RESERVED_ALIASES = frozenset({"latest"})

RunInputs = Callable[[str], Sequence[RunInput]]
ModelLoader = Callable[[ModelVersion], Any]
#: Scores a version on a dataset version for a metric, trusting the extra types named.
TrustedScorer = Callable[[ModelVersion, RunInput, str, Sequence[str]], "float | None"]


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
        score: TrustedScorer | None = None,
        audit: AuditSink | None = None,
        guard: ChangeGuard | None = None,
        clock: Clock = system_clock,
        new_id: IdFactory = new_id,
    ) -> None:
        self.repository = repository
        self.tracking = tracking
        self._run_inputs = run_inputs
        self._load_model = load_model
        self._score = score
        self.audit = audit
        self.guard = guard
        self._clock = clock
        self._new_id = new_id

    def _record(
        self,
        action: str,
        target: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        if self.audit is not None:
            self.audit.record(action, target, before=before, after=after)

    def _guard_alias(self, name: str, alias: str, version: int, action: str = "set_alias") -> None:
        """Ask governance whether changing where a (protected) alias points was approved:
        ``set_alias`` moves it to ``version``; ``delete_alias`` removes it from ``version``.
        Every operation that moves or removes an alias passes here."""
        if self.guard is not None:
            self.guard.require(ApprovalKind.ALIAS, name, action, version=version, alias=alias)

    def _guard_removal(self, name: str, aliases: Mapping[str, int]) -> None:
        """Guard the removal of each alias (alias -> the version it points at)."""
        for alias, version in sorted(aliases.items()):
            self._guard_alias(name, alias, version, "delete_alias")

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
        created = self.repository.create_model(model, model_id=self._new_id())
        self._record("model.create", f"model:{created.name}", after=_model_dict(created))
        return created

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
        before = self.repository.get_model(name) if self.audit is not None else None
        if tags:
            self.repository.set_model_tags(name, {str(k): str(v) for k, v in tags.items()})
        updated = self.repository.update_model(
            name, updated_at=self._clock(), description=description, owner=owner
        )
        if before is not None:
            self._record("model.update", f"model:{name}", _model_dict(before), _model_dict(updated))
        return updated

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        """Give a registered model a new name (its versions and aliases go with it)."""
        renamed = self.repository.rename_model(name, check_name(new_name), updated_at=self._clock())
        self._record(
            "model.rename", f"model:{renamed.name}", {"name": name}, {"name": renamed.name}
        )
        return renamed

    def delete_model(self, name: str) -> None:
        """Remove a registered model with every version, alias and tag, for good."""
        self._guard_removal(name, self.repository.get_model(name).aliases)
        self.repository.delete_model(name)
        self._record("model.delete", f"model:{name}", before={"name": name})

    def delete_model_tag(self, name: str, key: str) -> None:
        self.repository.delete_model_tag(name, key)

    # -- versions ---------------------------------------------------------------------------

    def add_version(
        self,
        name: str,
        source: ModelSource,
        *,
        flavor: str | None = None,
        signature: Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Record the model at ``source`` as the next version of ``name`` (created when
        missing) with the flavor and signature given, without reading an mlcycle manifest:
        for models packaged by other tools (the MLflow-compatible API registers MLflow
        models this way). :meth:`register` is the checked path for mlcycle's own models.
        """
        now = self._clock()
        version = ModelVersion(
            name=check_name(name),
            version=0,
            run_id=source.run_id,
            artifact_path=source.artifact_path,
            flavor=flavor,
            signature=signature,
            status=ModelVersionStatus.READY,
            description=description,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            created_at=now,
            updated_at=now,
        )
        created = self.repository.create_version(
            version, model_id=self._new_id(), version_id=self._new_id()
        )
        self._record(
            "model_version.create",
            f"model:{created.name}/{created.version}",
            after=created.to_dict(),
        )
        return created

    def delete_version(self, name: str, version: int) -> None:
        """Remove one version with its aliases and tags, for good."""
        held = self.repository.get_version(name, check_version(version))
        self._guard_removal(name, dict.fromkeys(held.aliases, held.version))
        self.repository.delete_version(name, check_version(version), updated_at=self._clock())
        self._record("model_version.delete", f"model:{name}/{version}", before={"version": version})

    def delete_version_tag(self, name: str, version: int, key: str) -> None:
        self.repository.delete_version_tag(name, check_version(version), key)

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
        return self.add_version(
            name,
            source,
            flavor=manifest.get("flavor"),
            signature=manifest.get("signature"),
            description=description,
            tags=tags,
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

    def list_versions(self, name: str, *, include_retired: bool = False) -> list[ModelVersion]:
        """The versions of ``name``, oldest first; retired ones only with
        ``include_retired`` (they keep their record)."""
        return self.versions_page(name, include_retired=include_retired)

    def versions_page(
        self,
        name: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        include_retired: bool = False,
    ) -> list[ModelVersion]:
        """At most ``limit`` versions numbered above ``after``, oldest first (a keyset
        page of :meth:`list_versions`)."""
        exclude = () if include_retired else (ModelVersionStatus.RETIRED,)
        return self.repository.list_versions(name, after=after, limit=limit, exclude=exclude)

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
        latest = self.repository.latest_version(name)
        if latest.status == ModelVersionStatus.RETIRED:  # the latest that may still serve
            serving = [
                v
                for v in self.repository.list_versions(name)
                if v.status not in (ModelVersionStatus.RETIRED, ModelVersionStatus.FAILED)
            ]
            if serving:
                return serving[-1]
        return latest

    def resolve(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelSource:
        """The model files behind a version, alias or the latest version, for loading.

        Raises ModelRetiredError for a retired version (it never serves again).
        """
        found = self.resolve_version(name, version=version, alias=alias)
        if found.status == ModelVersionStatus.RETIRED:
            reason = found.tags.get(RETIRED_REASON_TAG)
            raise ModelRetiredError(
                f"version {found.version} of {name!r} was retired"
                + (f": {reason}" if reason else "")
                + "; it is kept on record but does not serve",
                reason=reason,
            )
        return found.source

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
            self._guard_removal(name, dict.fromkeys(current.aliases, current.version))
            for alias in current.aliases:
                self.repository.delete_alias(name, alias)
        updated = self.repository.update_version(
            name, version, updated_at=self._clock(), status=new
        )
        self._record(
            "model_version.status",
            f"model:{name}/{version}",
            {"status": current.status.value, "aliases": list(current.aliases)},
            {"status": updated.status.value, "aliases": list(updated.aliases)},
        )
        return updated

    def update_version(
        self,
        name: str,
        version: int,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        before = self.get_version(name, version) if self.audit is not None else None
        if tags:
            self.repository.set_version_tags(
                name, version, {str(k): str(v) for k, v in tags.items()}
            )
        updated = self.repository.update_version(
            name, check_version(version), updated_at=self._clock(), description=description
        )
        if before is not None:
            self._record(
                "model_version.update",
                f"model:{name}/{version}",
                {"description": before.description, "tags": dict(before.tags)},
                {"description": updated.description, "tags": dict(updated.tags)},
            )
        return updated

    # -- aliases ----------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it from another version).

        Raises InvalidInputError for a FAILED or RETIRED version.
        """
        alias = check_alias(alias)
        target = self.get_version(name, version)
        self._check_can_hold(target, alias)
        self._guard_alias(name, alias, target.version)
        previous = self.repository.set_alias(name, alias, target.version, at=self._clock())
        self._record("model.alias", f"model:{name}", {alias: previous}, {alias: target.version})
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
        before = self.repository.alias_version(name, alias)
        self._guard_alias(name, alias, before.version, "delete_alias")
        self.repository.delete_alias(name, alias)
        if self.audit is not None:
            self._record("model.alias_delete", f"model:{name}", {alias: before.version}, None)

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
        trusted: Sequence[str] = (),
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
        context = self._context(candidate, alias, load_model or self._load_model, trusted)
        results = [gate.check(context) for gate in checks]
        failed = [r for r in results if not r.passed]
        forced = bool(failed) and force
        stored = self._store_gates(
            candidate,
            alias,
            results,
            forced=forced,
            reason=reason.strip() if forced and reason else None,
        )
        if failed and not force:
            reasons = "; ".join(f"{r.gate}: {r.detail}" for r in failed)
            raise PromotionRefusedError(
                f"version {candidate.version} of {name!r} was not promoted to {alias!r}: "
                f"{len(failed)} gate(s) failed - {reasons}",
                results=list(stored),
            )
        self._guard_alias(name, alias, candidate.version)
        previous = self.repository.set_alias(name, alias, candidate.version, at=self._clock())
        self._record(
            "model.promote",
            f"model:{name}",
            {alias: previous},
            {alias: candidate.version, "forced": forced, "reason": reason if forced else None},
        )
        return Promotion(
            name=name,
            version=candidate.version,
            alias=alias,
            previous=previous,
            results=stored,
            forced=forced,
            reason=reason.strip() if forced and reason else None,
        )

    def check_gates(
        self,
        name: str,
        version: int,
        alias: str = "champion",
        *,
        reason: str | None = None,
        trusted: Sequence[str] = (),
    ) -> list[GateResult]:
        """Run the default promotion gates for ``version`` against the version ``alias``
        points at now and store the results with the version; the alias does not move.

        ``trusted`` names extra types the models may hold, for gates that score them.
        """
        alias = check_alias(alias)
        candidate = self.get_version(name, version)
        context = self._context(candidate, alias, self._load_model, trusted)
        results = [gate.check(context) for gate in default_gates()]
        return list(self._store_gates(candidate, alias, results, forced=False, reason=reason))

    def _store_gates(
        self,
        candidate: ModelVersion,
        alias: str,
        results: Sequence[GateResult],
        *,
        forced: bool,
        reason: str | None,
    ) -> tuple[GateResult, ...]:
        """Keep the gates' results with the version (and in the audit trail)."""
        now = self._clock()
        stored = tuple(
            replace(r, alias=alias, forced=forced, reason=reason, created_at=now) for r in results
        )
        self.repository.add_gate_results(
            candidate.name, candidate.version, stored, ids=[self._new_id() for _ in stored]
        )
        self._record(
            "model_version.gates",
            f"model:{candidate.name}/{candidate.version}",
            after={"alias": alias, "results": [r.to_dict() for r in stored]},
        )
        return stored

    def _context(
        self,
        candidate: ModelVersion,
        alias: str,
        load_model: ModelLoader | None,
        trusted: Sequence[str] = (),
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
            score=_with_trust(self._score, trusted),
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

    def versions_of_run(self, run_id: str) -> list[ModelVersion]:
        """The model versions registered from a run's models."""
        return self.repository.versions_of_run(run_id)

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


def _model_dict(model: RegisteredModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "description": model.description,
        "owner": model.owner,
        "tags": dict(model.tags),
    }


def _with_trust(score: TrustedScorer | None, trusted: Sequence[str]) -> Scorer | None:
    if score is None:
        return None
    scorer = score

    def bound(version: ModelVersion, data: RunInput, metric: str) -> float | None:
        return scorer(version, data, metric, trusted)

    return bound
