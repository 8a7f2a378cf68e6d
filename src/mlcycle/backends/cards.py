"""Model cards and compliance bundles, gathered through a backend's APIs.

:class:`ModelCards` reads what a card needs (the version, its lineage, gates, data
profiles and validations, evaluation reports, approvals, deployment history, monitoring,
the audit events) through the capability APIs of a :class:`~mlcycle.backends.Backend`,
so a card is the same whether the backend is a local store or a server; a capability the
backend does not offer is refused there, once.

    >>> cards = ModelCards(backend, backend.governance)  # doctest: +SKIP
    >>> cards.card("churn", 4).to_markdown()  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from mlcycle.backends.base import Backend
from mlcycle.entities import ModelVersion
from mlcycle.entities.cards import Evidence, ModelCard
from mlcycle.entities.governance import (
    CARD_FIELDS,
    CARD_TAG_PREFIX,
    RETIRED_AT_TAG,
    RETIRED_BY_TAG,
    RETIRED_REASON_TAG,
    Approval,
    ApprovalStatus,
    AuditEvent,
    AuditQuery,
    canonical_json,
)
from mlcycle.errors import InvalidInputError, MlcycleError
from mlcycle.governance.actor import current_actor
from mlcycle.governance.bundle import write_bundle
from mlcycle.governance.card_evidence import evaluation_evidence

_EVALUATION_JSON = "evaluation.json"
_PAGE = 1000


class Trail(Protocol):
    """The part of governance a card reads: approvals and the audit trail."""

    def list_approvals(
        self, *, status: ApprovalStatus | str | None = None, target: str | None = None
    ) -> list[Approval]: ...

    def audit_events(self, query: AuditQuery | None = None) -> list[AuditEvent]: ...


class ModelCards:
    """Cards, card fields and compliance bundles over ``backend`` and its ``trail``."""

    def __init__(self, backend: Backend, trail: Trail) -> None:
        self._backend = backend
        self._trail = trail

    def _events(self, query: AuditQuery) -> Iterator[AuditEvent]:
        """Every event matching ``query``, page by page (oldest first)."""
        after = query.after_seq
        while True:
            page = self._trail.audit_events(
                AuditQuery(
                    target=query.target,
                    actor=query.actor,
                    action=query.action,
                    since=query.since,
                    after_seq=after,
                    limit=_PAGE,
                )
            )
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1].seq

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
        return self._backend.registry.update_version(name, version, tags=tags)

    def card(self, name: str, version: int) -> ModelCard:
        """The model card of a version (see :class:`~mlcycle.entities.cards.ModelCard`)."""
        registry = self._backend.registry
        v = registry.get_version(name, version)
        model = registry.get_model(name)
        lineage = registry.lineage(name, version)
        evaluations = self._evaluations(v.run_id)
        deployments = self._deployment_history(name, version, v.aliases)
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
            evaluations=[{"path": p, **e} for p, e in evaluations.items()],
            evidence=self._evidence(v.run_id, evaluations),
            lineage=_lineage_steps(lineage.to_dict(), name, version, deployments),
            gates=[g.to_dict() for g in registry.gate_results(name, version)],
            approvals=[
                a.to_dict() for a in self._trail.list_approvals(target=name) if a.version == version
            ],
            deployments=deployments,
            monitoring=self._monitoring(name, version),
            retirement=retirement,
        )

    def _evidence(self, run_id: str, evaluations: dict[str, dict[str, Any]]) -> list[Evidence]:
        tracking = self._backend.tracking
        found: list[Evidence] = []
        for path, report in evaluations.items():
            folder = path.rsplit("/", 1)[0] if "/" in path else ""
            pngs: dict[str, bytes] = {}
            for plot in report.get("plots") or []:
                where = f"{folder}/plots/{plot}.png" if folder else f"plots/{plot}.png"
                try:
                    with tracking.open_artifact(run_id, where) as f:
                        pngs[str(plot)] = f.read()
                except MlcycleError:
                    continue  # the chart is listed without its image
            found += evaluation_evidence(path, report, pngs)
        return found

    def _datasets(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for item in inputs:
            row = dict(item)
            try:
                found = self._backend.datasets.get_by_id(item["version_id"])
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
        backend = self._backend.tracking
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
            deployments = self._backend.deployments
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
            monitoring = self._backend.monitoring
            for monitor in monitoring.list_monitors():
                for result in monitoring.results(monitor.name, limit=20)[::-1]:
                    if result.model_name == name and result.model_version == version:
                        rows.append(
                            {
                                "monitor": monitor.name,
                                "status": str(result.status),
                                "rows": result.rows,
                                "drift_share": result.drift_share,
                                **_performance_of(result.details),
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
        registry = self._backend.registry
        v = registry.get_version(name, version)
        files: dict[str, bytes] = {
            **{e.asset: e.png for e in card.evidence if e.asset is not None and e.png},
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
                found = self._backend.datasets.get_by_id(item.version_id)
            except MlcycleError:
                continue
            folder = f"data/{found.name}-v{found.version}"
            files[f"{folder}/profile.json"] = json.dumps(
                found.profile.to_dict(), indent=2, default=str
            ).encode()
            for i, record in enumerate(self._backend.datasets.validations(found)):
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
        own = list(self._events(AuditQuery(target=f"model:{name}/{version}")))
        model_wide = [
            e
            for e in self._events(AuditQuery(target=f"model:{name}"))
            if version in (e.after or {}).values() or version in (e.before or {}).values()
        ]
        approvals = {a.id for a in self._trail.list_approvals(target=name) if a.version == version}
        approval_events = [
            e
            for e in self._events(AuditQuery(target="approval:*"))
            if e.target.removeprefix("approval:") in approvals
        ]
        return sorted(own + model_wide + approval_events, key=lambda e: e.seq)


def _lineage_steps(
    lineage: dict[str, Any], name: str, version: int, deployments: list[dict[str, Any]]
) -> list[str]:
    """``"step: what"`` from the data to the deployments."""
    steps = [
        f"Dataset: {i.get('name')}@{i.get('version')} ({i.get('context') or 'input'})"
        for i in lineage.get("inputs", [])
    ]
    run = lineage.get("run") or {}
    if run:
        steps.append(f"Run: {run.get('id')} ({run.get('name') or 'unnamed'})")
    steps.append(f"Model version: {name} version {version}")
    names = list(dict.fromkeys(str(d.get("deployment")) for d in deployments))
    steps.append(f"Deployments: {', '.join(names) if names else 'none'}")
    return steps


def _performance_of(details: Any) -> dict[str, Any]:
    """The judged metric's label-free estimate and, once labels came, its realised value."""
    section = details.get("estimated_performance") if isinstance(details, dict) else None
    if not isinstance(section, dict) or not section.get("metrics"):
        return {"estimated": None, "realised": None, "performance": []}
    metric = section.get("judged_metric")
    estimate = (section.get("metrics") or {}).get(metric) or {}
    realised = (section.get("realised") or {}).get(metric)
    value = estimate.get("value")
    return {
        "estimated": None
        if value is None
        else f"{metric} {value:.3f} [{estimate.get('low', 0):.3f}, {estimate.get('high', 0):.3f}]",
        "realised": None if realised is None else f"{metric} {realised:.3f}",
        "performance": _performance_rows(section),
    }


def _performance_rows(section: dict[str, Any]) -> list[dict[str, Any]]:
    """Each estimated metric: the estimate and its interval, the baseline, and the
    realised value (and whether it fell inside the interval) once labels came."""
    realised = section.get("realised") or {}
    within = section.get("within") or {}
    baseline = section.get("baseline") or {}
    return [
        {
            "metric": name,
            "estimate": found.get("value"),
            "low": found.get("low"),
            "high": found.get("high"),
            "baseline": baseline.get(name),
            "realised": realised.get(name),
            "within": within.get(name),
            "judged": name == section.get("judged_metric"),
            "confidence": section.get("confidence"),
        }
        for name, found in (section.get("metrics") or {}).items()
        if isinstance(found, dict)
    ]
