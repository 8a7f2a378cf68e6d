"""The registry contract: the same calls, answers and refusals locally and through a
server (see conftest.py for the three backends)."""

from __future__ import annotations

import pytest

from mlcycle.entities import ModelVersionStatus
from mlcycle.entities.models import ModelSource
from mlcycle.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    PromotionRefusedError,
)
from tests.contract._setup import log_model_run
from tests.contract.conftest import Platform


def test_models_create_get_update_list_rename_delete(platform: Platform) -> None:
    reg = platform.registry
    created = reg.create_model("churn", description="d", owner="ana", tags={"team": "risk"})
    assert created.name == "churn"
    assert created.tags == {"team": "risk"}
    assert reg.get_model("churn") == created
    updated = reg.update_model("churn", description="new", tags={"tier": "1"})
    assert updated.description == "new"
    assert updated.tags == {"team": "risk", "tier": "1"}
    reg.delete_model_tag("churn", "tier")
    assert reg.get_model("churn").tags == {"team": "risk"}
    reg.create_model("fraud")
    assert [m.name for m in reg.list_models()] == ["churn", "fraud"]
    assert [m.name for m in reg.list_models("FRA")] == ["fraud"]
    assert reg.rename_model("fraud", "fraud2").name == "fraud2"
    reg.delete_model("fraud2")
    assert [m.name for m in reg.list_models()] == ["churn"]


def test_model_refusals_match(platform: Platform) -> None:
    reg = platform.registry
    reg.create_model("churn")
    with pytest.raises(AlreadyExistsError) as taken:
        reg.create_model("churn")
    assert "churn" in str(taken.value)
    with pytest.raises(NotFoundError, match="nope"):
        reg.get_model("nope")
    with pytest.raises(InvalidInputError, match="invalid registered model name") as bad:
        reg.create_model("a/b")
    assert bad.value.field == "name"


def test_versions_aliases_lineage_compare(platform: Platform) -> None:
    reg = platform.registry
    first = log_model_run(platform.tracking, auc=0.8, params={"C": 1.0})
    second = log_model_run(platform.tracking, auc=0.9, params={"C": 2.0})
    v1 = reg.register("churn", first, description="first", tags={"k": "v"})
    v2 = reg.register("churn", second)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.flavor == "sklearn"
    assert v1.signature is not None
    assert reg.get_version("churn", 1) == v1
    assert [v.version for v in reg.list_versions("churn")] == [1, 2]
    moved = reg.set_alias("churn", "champion", 1)
    assert moved.aliases == ("champion",)
    assert reg.resolve_version("churn", alias="champion").version == 1
    assert reg.resolve("churn", alias="champion") == first
    assert reg.resolve_version("churn").version == 2
    reg.delete_alias("churn", "champion")
    assert reg.get_version("churn", 1).aliases == ()
    lineage = reg.lineage("churn", 2)
    assert lineage.run.id == second.run_id
    assert lineage.experiment is not None
    assert lineage.experiment.name == "churn"
    diff = reg.compare("churn", 1, 2)
    assert diff.versions == (1, 2)
    assert diff.params["C"] == ("1.0", "2.0")
    assert diff.metrics["roc_auc"] == (0.8, 0.9)
    updated = reg.update_version("churn", 2, description="second", tags={"x": "1"})
    assert updated.description == "second"
    reg.delete_version_tag("churn", 2, "x")
    assert reg.get_version("churn", 2).tags == {}
    failed = reg.set_status("churn", 2, ModelVersionStatus.FAILED)
    assert failed.status == ModelVersionStatus.FAILED
    with pytest.raises(InvalidInputError, match="it cannot hold the alias") as cannot:
        reg.set_alias("churn", "champion", 2)
    assert cannot.value.field == "version"
    with pytest.raises(InvalidInputError, match="invalid status 'bogus'"):
        reg.set_status("churn", 1, "bogus")
    reg.delete_version("churn", 2)
    with pytest.raises(NotFoundError):
        reg.get_version("churn", 2)


def test_add_version_without_manifest_and_missing_model(platform: Platform) -> None:
    reg = platform.registry
    source = log_model_run(platform.tracking)
    added = reg.add_version(
        "ext", ModelSource(run_id=source.run_id, artifact_path="other"), flavor="onnx"
    )
    assert added.flavor == "onnx"
    with pytest.raises(NotFoundError, match="has no model at 'other'"):
        reg.register("churn", ModelSource(run_id=source.run_id, artifact_path="other"))


def test_promote_passes_and_refuses_with_gate_results(platform: Platform) -> None:
    reg = platform.registry
    platform.tracking.create_experiment(
        "churn", task="classification", primary_metric="roc_auc", threshold=0.85
    )
    low = reg.register("churn", log_model_run(platform.tracking, auc=0.8))
    high = reg.register("churn", log_model_run(platform.tracking, auc=0.9))
    with pytest.raises(PromotionRefusedError, match="was not promoted") as refused:
        reg.promote("churn", low.version)
    assert any(not r.passed for r in refused.value.results)
    stored = reg.gate_results("churn", low.version)
    assert [r.gate for r in stored] == [r.gate for r in refused.value.results]
    done = reg.promote("churn", high.version, "champion")
    assert done.alias == "champion"
    assert done.previous is None
    assert all(r.passed for r in done.results)
    checked = reg.check_gates("churn", low.version, "champion")
    assert checked
    forced = reg.promote("churn", low.version, force=True, reason="hotfix")
    assert forced.forced
    assert forced.previous == high.version
    with pytest.raises(InvalidInputError, match="force=True needs a reason"):
        reg.promote("churn", low.version, force=True)


def test_list_versions_pages_through_many(platform: Platform) -> None:
    reg = platform.registry
    source = log_model_run(platform.tracking)
    for _ in range(12):
        reg.add_version("many", source, flavor="sklearn")
    assert [v.version for v in reg.list_versions("many")] == list(range(1, 13))
    if platform.http is not None:
        body = platform.http.request(
            "GET", "/api/v1/models/many/versions", params={"max_results": 5}
        ).json()
        assert [v["version"] for v in body["versions"]] == [1, 2, 3, 4, 5]
        after = platform.http.request(
            "GET",
            "/api/v1/models/many/versions",
            params={"max_results": 5, "page_token": body["next_page_token"]},
        ).json()
        assert [v["version"] for v in after["versions"]] == [6, 7, 8, 9, 10]
        with pytest.raises(InvalidInputError, match="page_token"):
            platform.http.request(
                "GET", "/api/v1/models/many/versions", params={"page_token": "zz"}
            )
