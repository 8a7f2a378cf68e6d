"""``client.governance``: users, tokens, grants, approvals, the audit trail, retirement,
model cards, compliance bundles and retention.

Over a local or database store it is :class:`LocalGovernance` (everything, acting as the
OS user; approvals are off, as there is no authentication in-process); over a tracking
server it is :class:`~mlcycle.remote.governance.RemoteGovernance` (acting as the owner of
``MLCYCLE_TOKEN``; cards, bundles and retention need the store itself).

    >>> gov = mlcycle.Client().governance
    >>> gov.create_user("ana", role="approver")  # doctest: +SKIP
    >>> gov.verify_audit().ok  # doctest: +SKIP
    True
    >>> gov.card("churn", 4).to_markdown()  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcycle.durations import parse_duration_ms
from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import ModelCard
from mlcycle.entities.governance import (
    CARD_FIELDS,
    CARD_TAG_PREFIX,
    RETIRED_AT_TAG,
    RETIRED_BY_TAG,
    RETIRED_REASON_TAG,
    ApiToken,
    Approval,
    ApprovalKind,
    ApprovalStatus,
    AuditEvent,
    AuditQuery,
    AuditVerification,
    Grant,
    GrantLevel,
    NewToken,
    Protection,
    ResourceKind,
    RetentionReport,
    Role,
    User,
    canonical_json,
)
from mlcycle.errors import InvalidInputError, MlcycleError
from mlcycle.governance.actor import current_actor
from mlcycle.governance.bundle import write_bundle
from mlcycle.governance.retirement import (
    DEFAULT_PREDICTION_LOG_RETENTION,
    DEFAULT_RETIRED_ARTIFACT_RETENTION,
    deployments_using,
)
from mlcycle.governance.service import GovernanceService
from mlcycle.remote.governance import RemoteGovernance
from mlcycle.store.sql.store import SqlStore

if TYPE_CHECKING:
    from mlcycle.client.client import Client

_EVALUATION_JSON = "evaluation.json"


def _ms(value: str | timedelta | int, field: str) -> int:
    if isinstance(value, str):
        return parse_duration_ms(value, field=field)
    if isinstance(value, timedelta):
        return int(value.total_seconds() * 1000)
    return int(value)


class LocalGovernance:
    """Governance over the client's own store (see the module docstring)."""

    def __init__(self, client: Client) -> None:
        client.backend  # noqa: B018 - opens the store
        service = client._service
        if service is None or not isinstance(service.store, SqlStore):
            raise InvalidInputError(
                "governance needs a client built from a store URI or a server URI, not a "
                "custom backend",
                field="backend",
            )
        self._client = client
        self.store: SqlStore = service.store
        self.service = GovernanceService(self.store.governance, audit=service.audit)
        self.service.attach_registry(
            client.registry, deployments_using=deployments_using(self.store.deployments)
        )

    # -- who, users, tokens, grants ---------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return {
            "name": current_actor(),
            "role": None,
            "authenticated": False,
            "auth_enabled": False,
        }

    def create_user(
        self,
        name: str,
        *,
        role: Role | str = Role.VIEWER,
        admin: bool = False,
        password: str | None = None,
    ) -> User:
        return self.service.users.create_user(name, role=role, admin=admin, password=password)

    def list_users(self) -> list[User]:
        return self.service.users.list_users()

    def set_disabled(self, name: str, disabled: bool = True) -> User:
        return self.service.users.set_disabled(name, disabled)

    def set_role(self, name: str, role: Role | str) -> User:
        return self.service.users.set_role(name, role)

    def create_token(
        self, user: str, *, expires: str | None = None, name: str | None = None
    ) -> NewToken:
        return self.service.users.create_token(user, expires=expires, name=name)

    def list_tokens(self, user: str | None = None) -> list[ApiToken]:
        return self.service.users.list_tokens(user)

    def revoke_token(self, token_id: str) -> ApiToken:
        return self.service.users.revoke_token(token_id)

    def grant(
        self, user: str, kind: ResourceKind | str, resource: str, level: GrantLevel | str
    ) -> Grant:
        return self.service.users.grant(user, kind, resource, level)

    def revoke_grant(self, user: str, kind: ResourceKind | str, resource: str) -> None:
        self.service.users.revoke_grant(user, kind, resource)

    def list_grants(self, user: str | None = None) -> list[Grant]:
        return self.service.users.list_grants(user)

    # -- protections and approvals ----------------------------------------------------------

    def protect(
        self, kind: ApprovalKind | str, target: str, name: str = "*", *, protected: bool = True
    ) -> Protection:
        return self.service.approvals.protect(kind, target, name, protected=protected)

    def protections(self) -> tuple[list[Protection], bool]:
        """The protection rules, and whether they are enforced (never in-process)."""
        return self.service.approvals.protections(), False

    def request_approval(
        self,
        kind: ApprovalKind | str,
        target: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        action: str | None = None,
        comment: str | None = None,
    ) -> Approval:
        return self.service.approvals.request(
            kind, target, version=version, alias=alias, action=action, comment=comment
        )

    def approve(self, approval_id: str, *, comment: str | None = None) -> Approval:
        return self.service.approvals.approve(approval_id, comment=comment)

    def reject(self, approval_id: str, *, comment: str | None = None) -> Approval:
        return self.service.approvals.reject(approval_id, comment=comment)

    def get_approval(self, approval_id: str) -> Approval:
        return self.service.approvals.get(approval_id)

    def list_approvals(
        self, *, status: ApprovalStatus | str | None = None, target: str | None = None
    ) -> list[Approval]:
        return self.service.approvals.list(status=status, target=target)

    # -- audit trail ------------------------------------------------------------------------

    def audit_events(self, query: AuditQuery | None = None) -> list[AuditEvent]:
        return self.service.trail.events(query)

    def verify_audit(self) -> AuditVerification:
        return self.service.trail.verify()

    def export_audit(self, query: AuditQuery | None = None) -> Iterator[str]:
        return self.service.trail.export_jsonl(query)

    # -- retirement and retention -----------------------------------------------------------

    def retire(self, name: str, version: int, *, reason: str) -> ModelVersion:
        return self.service.retirement.retire(name, version, reason=reason)

    def set_legal_hold(
        self, name: str, version: int, *, hold: bool = True, reason: str | None = None
    ) -> ModelVersion:
        return self.service.retirement.set_legal_hold(name, version, hold=hold, reason=reason)

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = DEFAULT_RETIRED_ARTIFACT_RETENTION,
        prediction_logs: str | timedelta | int = DEFAULT_PREDICTION_LOG_RETENTION,
        dry_run: bool = False,
    ) -> RetentionReport:
        """Delete artifacts of versions retired longer ago than ``retired_artifacts``
        (unless held) and prediction logs older than ``prediction_logs``."""
        service = self._client._service
        assert service is not None
        return self.service.retirement.apply_retention(
            service.artifact_store,
            retired_older_than_ms=_ms(retired_artifacts, "retired_artifacts"),
            prediction_logs_older_than_ms=_ms(prediction_logs, "prediction_logs"),
            dry_run=dry_run,
        )

    # -- model cards and bundles ------------------------------------------------------------

    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion:
        """Set what the owner states on the card: ``intended_use``, ``limitations``,
        ``ethical_considerations``."""
        unknown = sorted(set(fields) - set(CARD_FIELDS))
        if unknown:
            raise InvalidInputError(
                f"unknown card field(s) {', '.join(unknown)}: use {', '.join(CARD_FIELDS)}",
                field="fields",
            )
        tags = {CARD_TAG_PREFIX + k: v for k, v in fields.items() if v is not None}
        return self._client.registry.update_version(name, version, tags=tags)

    def card(self, name: str, version: int) -> ModelCard:
        """The model card of a version (see :class:`~mlcycle.entities.cards.ModelCard`)."""
        registry = self._client.registry
        v = registry.get_version(name, version)
        model = registry.get_model(name)
        lineage = registry.lineage(name, version)
        retirement = None
        if RETIRED_REASON_TAG in v.tags:
            retirement = {
                "reason": v.tags.get(RETIRED_REASON_TAG),
                "retired_by": v.tags.get(RETIRED_BY_TAG),
                "retired_at": v.tags.get(RETIRED_AT_TAG),
            }
        return ModelCard(
            name=v.name,
            version=v.version,
            status=v.status.value,
            model_uri=v.model_uri,
            flavor=v.flavor,
            owner=model.owner,
            description=v.description or model.description,
            created_at=v.created_at,
            signature=v.signature,
            fields={
                f: v.tags[CARD_TAG_PREFIX + f] for f in CARD_FIELDS if CARD_TAG_PREFIX + f in v.tags
            },
            run={
                **lineage.to_dict()["run"],
                "experiment": lineage.experiment.name if lineage.experiment else None,
            },
            datasets=self._datasets(lineage.to_dict()["inputs"]),
            evaluations=[{"path": p, **e} for p, e in self._evaluations(v.run_id).items()],
            gates=[g.to_dict() for g in registry.gate_results(name, version)],
            approvals=[
                a.to_dict()
                for a in self.service.approvals.list(target=name)
                if a.version == version
            ],
            deployments=self._deployment_history(name, version, v.aliases),
            monitoring=self._monitoring(name, version),
            retirement=retirement,
        )

    def _datasets(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for item in inputs:
            row = dict(item)
            try:
                found = self._client.datasets.get_by_id(item["version_id"])
            except MlcycleError:
                rows.append(row)
                continue
            row.update(num_rows=found.num_rows, num_columns=found.num_columns)
            if found.validation is not None:
                failed = len(found.validation.failures)
                row["validation"] = "passed" if failed == 0 else f"{failed} rule(s) failed"
            rows.append(row)
        return rows

    def _evaluations(self, run_id: str) -> dict[str, dict[str, Any]]:
        backend = self._client.backend
        found: dict[str, dict[str, Any]] = {}
        for info in backend.list_artifacts(run_id):
            if info.path.rsplit("/", 1)[-1] != _EVALUATION_JSON:
                continue
            with backend.open_artifact(run_id, info.path) as f:
                try:
                    data = json.loads(f.read())
                except ValueError:
                    continue
            if isinstance(data, dict):
                found[info.path] = data
        return found

    def _deployment_history(
        self, name: str, version: int, aliases: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        needles = [f"models:/{name}/{version}"] + [f"models:/{name}@{a}" for a in aliases]
        rows: list[dict[str, Any]] = []
        try:
            deployments = self._client.deployments
            for d in deployments.list(include_deleted=True):
                for event in deployments.history(d.name):
                    text = canonical_json({"before": event.before, "after": event.after})
                    if any(f'"{n}"' in text for n in needles):
                        rows.append(
                            {
                                "deployment": d.name,
                                "action": event.action,
                                "actor": event.actor,
                                "reason": event.reason,
                                "at": event.at,
                            }
                        )
        except MlcycleError:
            return rows
        return rows

    def _monitoring(self, name: str, version: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        try:
            monitoring = self._client.monitoring
            for monitor in monitoring.list_monitors():
                for result in monitoring.results(monitor.name, limit=20)[::-1]:
                    if result.model_name == name and result.model_version == version:
                        rows.append(
                            {
                                "monitor": monitor.name,
                                "status": str(result.status),
                                "rows": result.rows,
                                "drift_share": result.drift_share,
                                "message": result.message,
                                "created_at": result.created_at,
                            }
                        )
                        break
        except MlcycleError:
            return rows
        return rows

    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]:
        """Write the compliance bundle of a version to the zip at ``path``: model card
        (Markdown, HTML, JSON), its audit events, evaluation reports, data profiles and
        validation reports, lineage, and a manifest with checksums. Returns the manifest."""
        card = self.card(name, version)
        registry = self._client.registry
        v = registry.get_version(name, version)
        files: dict[str, bytes] = {
            "model_card.md": card.to_markdown().encode(),
            "model_card.html": card.to_html().encode(),
            "model_card.json": json.dumps(card.to_dict(), indent=2, default=str).encode(),
            "lineage.json": json.dumps(
                registry.lineage(name, version).to_dict(), indent=2, default=str
            ).encode(),
        }
        events = self._version_events(name, version)
        files["audit_events.jsonl"] = "".join(
            canonical_json(e.to_dict()) + "\n" for e in events
        ).encode()
        for path_in_run, report in self._evaluations(v.run_id).items():
            files[f"evaluation/{path_in_run}"] = json.dumps(report, indent=2).encode()
        for item in registry.lineage(name, version).inputs:
            try:
                found = self._client.datasets.get_by_id(item.version_id)
            except MlcycleError:
                continue
            folder = f"data/{found.name}-v{found.version}"
            files[f"{folder}/profile.json"] = json.dumps(
                found.profile.to_dict(), indent=2, default=str
            ).encode()
            for i, record in enumerate(self._client.datasets.validations(found)):
                files[f"{folder}/validation-{i + 1}.json"] = json.dumps(
                    record.report.to_dict(), indent=2, default=str
                ).encode()
        about = {
            "model": name,
            "version": version,
            "model_uri": v.model_uri,
            "created_by": current_actor(),
            "audit_events": len(events),
        }
        return write_bundle(path, files, about=about)

    def _version_events(self, name: str, version: int) -> list[AuditEvent]:
        own = list(self.service.trail.iter_all(AuditQuery(target=f"model:{name}/{version}")))
        model_wide = [
            e
            for e in self.service.trail.iter_all(AuditQuery(target=f"model:{name}"))
            if version in (e.after or {}).values() or version in (e.before or {}).values()
        ]
        approvals = {a.id for a in self.service.approvals.list(target=name) if a.version == version}
        approval_events = [
            e
            for e in self.service.trail.iter_all(AuditQuery(target="approval:*"))
            if e.target.removeprefix("approval:") in approvals
        ]
        return sorted(own + model_wide + approval_events, key=lambda e: e.seq)


class RemoteGovernanceClient(RemoteGovernance):
    """Governance through a tracking server; what needs the store itself says so."""

    @staticmethod
    def _needs_store(what: str) -> InvalidInputError:
        return InvalidInputError(
            f"{what} needs a local or database store (sqlite:/// or postgresql://); run it "
            "on a machine that can reach the server's store",
            field="tracking_uri",
        )

    def card(self, name: str, version: int) -> ModelCard:
        raise self._needs_store("a model card")

    def set_card_fields(self, name: str, version: int, **fields: str) -> ModelVersion:
        raise self._needs_store("setting model card fields")

    def export_bundle(self, name: str, version: int, path: str | Path) -> dict[str, Any]:
        raise self._needs_store("a compliance bundle")

    def apply_retention(
        self,
        *,
        retired_artifacts: str | timedelta | int = DEFAULT_RETIRED_ARTIFACT_RETENTION,
        prediction_logs: str | timedelta | int = DEFAULT_PREDICTION_LOG_RETENTION,
        dry_run: bool = False,
    ) -> RetentionReport:
        raise self._needs_store("retention")


GovernanceClient = LocalGovernance | RemoteGovernanceClient


def governance_for(client: Client) -> GovernanceClient:
    """The governance API for ``client``: remote for a server URI, else local."""
    if client.settings.is_remote:
        client.backend  # noqa: B018 - builds the remote backend and its HTTP session
        remote = client._remote
        assert remote is not None
        return RemoteGovernanceClient(remote.http)
    return LocalGovernance(client)
