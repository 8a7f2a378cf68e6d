"""The governance contract: model cards, compliance bundles, retirement, legal holds,
retention and the audit trail, the same locally and through a server."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mlcycle.entities import ModelVersionStatus
from mlcycle.entities.models import ModelSource
from mlcycle.errors import InvalidInputError, NotFoundError
from tests.contract._setup import log_model_run
from tests.contract.conftest import Platform
from tests.models._models import FEATURES, churn_frame, churn_pipeline


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


def test_card_evidence_carries_its_charts(platform: Platform, tmp_path: Path) -> None:
    """A logged evaluation's chart reaches the card byte for byte, also through a server."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    (tmp_path / "roc.png").write_bytes(png)
    frame = churn_frame(60)
    with platform.tracking.start_run("churn", capture_environment=False) as run:
        run.log_model(churn_pipeline(frame), "model", input_example=frame[FEATURES].head(3))
        run.log_dict({"metrics": {"roc_auc": 0.8}, "plots": ["roc"]}, "evaluation/evaluation.json")
        run.log_artifact(tmp_path / "roc.png", "evaluation/plots")
        run_id = run.id
    platform.registry.register("churn", ModelSource(run_id=run_id, artifact_path="model"))
    card = platform.governance.card("churn", 1)
    roc = next(e for e in card.evidence if e.key.endswith("roc"))
    assert roc.png == png
    assert roc.reading.startswith("ROC AUC 0.8")
    assert f"![{roc.title}]({roc.asset})" in card.to_markdown()
    assert card.lineage[-1] == "Deployments: none"


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
