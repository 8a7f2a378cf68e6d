"""Retirement of model versions, legal holds, and retention (what ``mlcycle gc`` applies).

A version is retired only when nothing points at it: no alias and no active deployment
(the message names them). A retired version keeps its record, metrics, lineage and audit
events, disappears from default listings and never serves again (loading it raises
ModelRetiredError; serving answers 410 Gone). Its reason, actor and time are version tags
(:data:`~mlcycle.entities.governance.RETIRED_REASON_TAG`...), so every reader of the
registry sees them.

Retention: the artifacts of versions retired longer ago than a period are deleted unless
the version is under legal hold; prediction-log partitions older than their period (180
days by default) are deleted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from mlcycle.clock import system_clock
from mlcycle.entities import ModelVersion, ModelVersionStatus
from mlcycle.entities.governance import (
    ARTIFACTS_DELETED_TAG,
    LEGAL_HOLD_TAG,
    RETIRED_AT_TAG,
    RETIRED_BY_TAG,
    RETIRED_REASON_TAG,
    RetentionReport,
)
from mlcycle.errors import ConflictError, InvalidInputError, NotFoundError
from mlcycle.governance.actor import current_actor
from mlcycle.ports.artifacts import ArtifactStore
from mlcycle.ports.audit import AuditSink
from mlcycle.ports.deployments import DeploymentRepository
from mlcycle.ports.governance import GovernanceRepository
from mlcycle.registry.service import RegistryService
from mlcycle.types import Clock

#: Which active deployments serve a version: ``(model name, version) -> deployment names``.
DeploymentsUsing = Callable[[str, int], Sequence[str]]

DEFAULT_PREDICTION_LOG_RETENTION = "180d"
DEFAULT_RETIRED_ARTIFACT_RETENTION = "90d"
PREDICTION_LOG_DIR = "prediction-logs"
_HOUR = re.compile(r"(?:^|/)hour=(\d{10})(?:/|$)")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")


def deployments_using(repository: DeploymentRepository) -> DeploymentsUsing:
    """``(name, version) -> active deployments`` whose arms (or stable target) name that
    version by number, read from the deployments' store. (A version an alias names
    cannot be retired anyway while the alias points at it.)"""

    def using(name: str, version: int) -> list[str]:
        found = []
        for deployment in repository.list_deployments():
            uris = [deployment.model_uri, *(a.model_uri for a in deployment.arms)]
            for uri in uris:
                match = _VERSION_URI.match(uri.strip())
                if match and match["name"] == name and int(match["version"]) == version:
                    found.append(deployment.name)
                    break
        return found

    return using


class Retirement:
    """Retire versions, set legal holds, apply retention.

    >>> retirement = Retirement(registry, repository=store.governance)  # doctest: +SKIP
    >>> retirement.retire("churn", 2, reason="superseded by v4; AUC drift")  # doctest: +SKIP
    """

    def __init__(
        self,
        registry: RegistryService,
        *,
        repository: GovernanceRepository | None = None,
        deployments_using: DeploymentsUsing | None = None,
        audit: AuditSink | None = None,
        actor: Callable[[], str] = current_actor,
        clock: Clock = system_clock,
    ) -> None:
        self.registry = registry
        self.repository = repository
        self.deployments_using = deployments_using
        self._audit = audit
        self._actor = actor
        self._clock = clock

    def retire(self, name: str, version: int, *, reason: str) -> ModelVersion:
        """Retire ``version`` of ``name`` for ``reason``.

        Raises ConflictError naming the aliases or active deployments that still point at
        it (or when it is retired already); InvalidInputError without a reason.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInputError("a retirement needs a reason", field="reason")
        current = self.registry.get_version(name, version)
        if current.status == ModelVersionStatus.RETIRED:
            raise ConflictError(
                f"version {version} of {name!r} was retired already "
                f"({current.tags.get(RETIRED_REASON_TAG, 'no reason recorded')})",
                field="version",
            )
        if current.aliases:
            listed = ", ".join(f"{name}@{a}" for a in current.aliases)
            raise ConflictError(
                f"version {version} of {name!r} cannot be retired: the alias(es) {listed} "
                "point at it; move or delete them first",
                field="version",
            )
        if self.deployments_using is not None:
            using = list(self.deployments_using(name, version))
            if using:
                raise ConflictError(
                    f"version {version} of {name!r} cannot be retired: active deployment(s) "
                    f"{', '.join(using)} serve it; roll them to another version first",
                    field="version",
                )
        now = self._clock()
        tags = {
            RETIRED_REASON_TAG: reason.strip(),
            RETIRED_BY_TAG: self._actor(),
            RETIRED_AT_TAG: str(now),
        }
        self.registry.update_version(name, version, tags=tags)
        retired = self.registry.set_status(name, version, ModelVersionStatus.RETIRED)
        if self._audit is not None:
            self._audit.record(
                "model_version.retire",
                f"model:{name}/{version}",
                before={"status": current.status.value},
                after={"status": retired.status.value, "reason": reason.strip()},
            )
        return retired

    def set_legal_hold(
        self, name: str, version: int, *, hold: bool = True, reason: str | None = None
    ) -> ModelVersion:
        """Keep (or stop keeping) a version's artifacts past the retention period."""
        value = (reason or "held").strip() or "held"
        if hold:
            updated = self.registry.update_version(name, version, tags={LEGAL_HOLD_TAG: value})
        else:
            self.registry.get_version(name, version)
            with contextlib.suppress(NotFoundError):  # no hold to release
                self.registry.delete_version_tag(name, version, LEGAL_HOLD_TAG)
            updated = self.registry.get_version(name, version)
        if self._audit is not None:
            self._audit.record(
                "model_version.legal_hold",
                f"model:{name}/{version}",
                after={"hold": hold, "reason": value if hold else None},
            )
        return updated

    def retired_versions(self) -> list[ModelVersion]:
        return [
            v
            for m in self.registry.list_models()
            for v in self.registry.list_versions(m.name, include_retired=True)
            if v.status == ModelVersionStatus.RETIRED
        ]

    def apply_retention(
        self,
        artifacts: ArtifactStore,
        *,
        retired_older_than_ms: int,
        prediction_logs_older_than_ms: int,
        dry_run: bool = False,
    ) -> RetentionReport:
        """Delete the artifacts of versions retired before the cutoff (not held), and
        prediction-log hour partitions older than theirs."""
        now = self._clock()
        deleted: list[str] = []
        held: list[str] = []
        for v in self.retired_versions():
            label = f"{v.name}/{v.version}"
            retired_at = int(v.tags.get(RETIRED_AT_TAG) or v.updated_at)
            if ARTIFACTS_DELETED_TAG in v.tags or now - retired_at < retired_older_than_ms:
                continue
            if LEGAL_HOLD_TAG in v.tags:
                held.append(label)
                continue
            deleted.append(label)
            if dry_run:
                continue
            prefix = v.artifact_path.strip("/")
            artifacts.delete_prefix(f"runs/{v.run_id}/{prefix}")
            if self.repository is not None:
                self.repository.forget_artifacts(v.run_id, prefix)
            self.registry.update_version(v.name, v.version, tags={ARTIFACTS_DELETED_TAG: str(now)})
            if self._audit is not None:
                self._audit.record(
                    "model_version.artifacts_delete",
                    f"model:{v.name}/{v.version}",
                    before={"model_uri": v.model_uri},
                    after={"deleted_at": now},
                )
        partitions = self._old_partitions(artifacts, now - prediction_logs_older_than_ms)
        if not dry_run:
            for prefix in partitions:
                artifacts.delete_prefix(prefix)
            if partitions and self._audit is not None:
                self._audit.record(
                    "prediction_logs.delete",
                    PREDICTION_LOG_DIR,
                    after={"partitions": partitions},
                )
        return RetentionReport(
            retired_versions=tuple(deleted),
            held_versions=tuple(held),
            prediction_partitions=tuple(partitions),
            dry_run=dry_run,
        )

    @staticmethod
    def _old_partitions(artifacts: ArtifactStore, cutoff_ms: int) -> list[str]:
        """Hour partitions (``.../hour=YYYYMMDDHH``) that ended before ``cutoff_ms``."""
        found: set[str] = set()
        for key in artifacts.iter_keys(PREDICTION_LOG_DIR):
            match = _HOUR.search(key)
            if match is None:
                continue
            start = datetime.strptime(match.group(1), "%Y%m%d%H").replace(tzinfo=UTC)
            end_ms = int(start.timestamp() * 1000) + 3_600_000
            if end_ms <= cutoff_ms:
                found.add(key[: match.end(1)])
        return sorted(found)
