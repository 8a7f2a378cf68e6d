"""The governance contract: model cards, compliance bundles, retirement, legal holds,
retention and the audit trail, the same locally and through a server."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mlcycle.entities import ModelVersionStatus
from mlcycle.errors import InvalidInputError, NotFoundError
from tests.contract._setup import log_model_run
from tests.contract.conftest import Platform


@pytest.fixture
def registered(platform: Platform) -> Platform:
    platform.registry.register("churn", log_model_run(platform.tracking, auc=0.8))
    platform.registry.register("churn", log_model_run(platform.tracking, auc=0.9))
    return platform


def test_cards_and_bundles(registered: Platform, tmp_path: Path) -> None:
    gov = registered.governance
    updated = gov.set_card_fields("churn", 1, intended_use="scoring", limitations="small data")
    assert updated.version == 1
    card = gov.card("churn", 1)
    assert (card.name, card.version, card.flavor) == ("churn", 1, "sklearn")
    assert card.fields["intended_use"] == "scoring"
    assert card.run["metrics"]["roc_auc"] == 0.8
    assert "scoring" in card.to_markdown()
    with pytest.raises(InvalidInputError, match="unknown card field\\(s\\) mood") as bad:
        gov.set_card_fields("churn", 1, mood="happy")
    assert bad.value.field == "fields"
    manifest = gov.export_bundle("churn", 1, tmp_path / "out" / "bundle.zip")
    assert (manifest["model"], manifest["version"]) == ("churn", 1)
    with zipfile.ZipFile(tmp_path / "out" / "bundle.zip") as archive:
        names = set(archive.namelist())
    assert "manifest.json" in names
    assert {f["path"] for f in manifest["files"]} <= names
    with pytest.raises(NotFoundError):
        gov.card("churn", 9)


def test_retire_hold_retention_audit(registered: Platform) -> None:
    gov = registered.governance
    retired = gov.retire("churn", 1, reason="superseded")
    assert retired.status is ModelVersionStatus.RETIRED
    held = gov.set_legal_hold("churn", 1, reason="audit")
    assert held.version == 1
    report = gov.apply_retention(retired_artifacts=0, dry_run=True)
    assert report.dry_run
    assert report.held_versions == ("churn/1",)
    assert report.retired_versions == ()
    with pytest.raises(InvalidInputError) as bad:
        gov.apply_retention(retired_artifacts="soon")
    assert bad.value.field == "retired_artifacts"
    events = gov.audit_events()
    assert any("retire" in e.action and e.target == "model:churn/1" for e in events)
    assert gov.verify_audit().ok
