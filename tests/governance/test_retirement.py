"""Retirement: refused while an alias or an active deployment points at the version; a
retired version keeps its record, leaves default listings and never loads again;
retention deletes its artifacts after the period unless held, and old prediction logs."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlcycle
from mlcycle.entities import ModelVersionStatus
from mlcycle.entities.governance import (
    ARTIFACTS_DELETED_TAG,
    LEGAL_HOLD_TAG,
    RETIRED_REASON_TAG,
    AuditQuery,
)
from mlcycle.errors import ConflictError, InvalidInputError, ModelRetiredError
from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import SqlStore
from tests.conftest import local_backend
from tests.registry.conftest import log_version

DAY = 86_400_000


def test_retire_is_refused_while_an_alias_points_at_it(gclient: mlcycle.Client) -> None:
    log_version(gclient)
    gclient.registry.set_alias("churn", "champion", 1)
    gov = gclient.governance
    with pytest.raises(ConflictError, match=r"churn@champion point at it") as refused:
        gov.retire("churn", 1, reason="old")
    assert refused.value.field == "version"
    with pytest.raises(InvalidInputError, match="needs a reason"):
        gov.retire("churn", 1, reason="  ")


def test_retire_is_refused_while_a_deployment_serves_it(
    store: SqlStore, gclient: mlcycle.Client
) -> None:
    log_version(gclient)
    gov = GovernanceService(store.governance)

    def serving(name: str, version: int) -> list[str]:
        return ["churn-prod"] if (name, version) == ("churn", 1) else []

    gov.attach_registry(local_backend(gclient).registry_service, deployments_using=serving)
    with pytest.raises(ConflictError, match="active deployment\\(s\\) churn-prod serve it"):
        gov.retirement.retire("churn", 1, reason="old")


def test_a_retired_version_keeps_its_record_but_never_loads(gclient: mlcycle.Client) -> None:
    log_version(gclient, auc=0.8)
    log_version(gclient, auc=0.9)
    retired = gclient.governance.retire("churn", 1, reason="superseded by v2")
    assert retired.status == ModelVersionStatus.RETIRED
    assert retired.tags[RETIRED_REASON_TAG] == "superseded by v2"
    assert [v.version for v in mlcycle.registry.list_versions("churn")] == [2]
    assert [v.version for v in mlcycle.registry.list_versions("churn", include_retired=True)] == [
        1,
        2,
    ]
    with pytest.raises(ModelRetiredError, match="retired: superseded by v2"):
        mlcycle.models.load("models:/churn/1")
    assert mlcycle.registry.lineage("churn", 1).run.metrics["roc_auc"] == 0.8  # record kept
    assert gclient.registry.resolve_version("churn").version == 2  # latest skips retired
    with pytest.raises(InvalidInputError, match="cannot hold the alias"):
        gclient.registry.set_alias("churn", "champion", 1)
    with pytest.raises(ConflictError, match="retired already"):
        gclient.governance.retire("churn", 1, reason="again")
    events = gclient.governance.audit_events(AuditQuery(target="model:churn/1"))
    assert "model_version.retire" in [e.action for e in events]


def test_retention_deletes_retired_artifacts_unless_held(
    store: SqlStore, gclient: mlcycle.Client, tmp_path: Path
) -> None:
    for auc in (0.7, 0.8, 0.9):
        log_version(gclient, auc=auc)
    gov = gclient.governance
    gov.retire("churn", 1, reason="old")
    gov.retire("churn", 2, reason="old")
    gov.set_legal_hold("churn", 2, reason="case 42")
    v1 = gclient.registry.get_version("churn", 1)
    assert gclient.list_artifacts(v1.run_id, "model")
    # not yet past the period
    assert gov.apply_retention(retired_artifacts="1d").retired_versions == ()
    report = gov.apply_retention(retired_artifacts=0)
    assert report.retired_versions == ("churn/1",)
    assert report.held_versions == ("churn/2",)
    assert gclient.list_artifacts(v1.run_id, "model") == []
    assert not (tmp_path / "artifacts" / "runs" / v1.run_id / "model").exists()
    assert ARTIFACTS_DELETED_TAG in gclient.registry.get_version("churn", 1).tags
    v2 = gclient.registry.get_version("churn", 2)
    assert v2.tags[LEGAL_HOLD_TAG] == "case 42"
    assert gclient.list_artifacts(v2.run_id, "model")
    assert gov.apply_retention(retired_artifacts=0).retired_versions == ()  # done once
    gov.set_legal_hold("churn", 2, hold=False)
    assert gov.apply_retention(retired_artifacts=0).retired_versions == ("churn/2",)
    assert mlcycle.registry.lineage("churn", 1).version.version == 1  # the record stays


def test_retention_deletes_old_prediction_logs(gclient: mlcycle.Client, tmp_path: Path) -> None:
    root = tmp_path / "artifacts" / "prediction-logs" / "deployment=churn"
    old = root / "hour=2020010100"
    new = root / "hour=2999010100"
    for folder in (old, new):
        folder.mkdir(parents=True)
        (folder / "part-1.parquet").write_bytes(b"x")
    dry = gclient.governance.apply_retention(prediction_logs="180d", dry_run=True)
    assert dry.prediction_partitions == ("prediction-logs/deployment=churn/hour=2020010100",)
    assert old.exists()
    gclient.governance.apply_retention(prediction_logs="180d")
    assert not old.exists()
    assert new.exists()


def test_a_real_deployment_blocks_retirement(gclient: mlcycle.Client) -> None:
    log_version(gclient)
    log_version(gclient)
    gclient.deployments.create("churn-prod", "models:/churn/1")
    with pytest.raises(ConflictError, match="churn-prod serve it"):
        gclient.governance.retire("churn", 1, reason="old")
    gclient.deployments.delete("churn-prod")
    assert gclient.governance.retire("churn", 1, reason="old").status.value == "retired"
    card = gclient.governance.card("churn", 1)
    assert [d["action"] for d in card.deployments] == ["create", "delete"]
