"""The deployments contract: the same calls, answers and refusals locally and through a
server (see conftest.py for the three backends)."""

from __future__ import annotations

import pytest

from mlcycle.entities import ArmRole, ArmStats, DeploymentStatus, ServingOptions, Strategy
from mlcycle.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from tests.contract._setup import log_model_run
from tests.contract.conftest import Platform


@pytest.fixture
def versions(platform: Platform) -> Platform:
    """``churn`` versions 1 (alias champion) and 2."""
    reg = platform.registry
    reg.register("churn", log_model_run(platform.tracking, auc=0.8))
    reg.register("churn", log_model_run(platform.tracking, auc=0.9))
    reg.set_alias("churn", "champion", 1)
    return platform


def test_create_get_list_status_delete(versions: Platform) -> None:
    dep = versions.deployments
    options = ServingOptions(max_batch_size=16, log_sample_rate=0.5)
    created = dep.create("churn-api", "models:/churn@champion", options=options, description="d")
    assert created.revision == 1
    assert created.options == options
    assert dep.get("churn-api") == created
    dep.create("other", "models:/churn/2")
    assert [d.name for d in dep.list()] == ["churn-api", "other"]
    state = dep.status("churn-api")
    assert state.arm("primary").version == 1
    versions.registry.set_alias("churn", "champion", 2)
    assert dep.status("churn-api").arm("primary").version == 2
    deleted = dep.delete("other", reason="gone")
    assert deleted.status is DeploymentStatus.DELETED
    assert [d.name for d in dep.list()] == ["churn-api"]
    assert [d.name for d in dep.list(include_deleted=True)] == ["churn-api", "other"]
    assert [e.action for e in dep.history("other")] == ["create", "delete"]
    with pytest.raises(NotFoundError, match="other"):
        dep.get("other")


def test_create_refusals_match(versions: Platform) -> None:
    dep = versions.deployments
    dep.create("churn-api", "models:/churn/1")
    with pytest.raises(AlreadyExistsError, match="churn-api"):
        dep.create("churn-api", "models:/churn/1")
    with pytest.raises(InvalidInputError, match="invalid deployment name") as bad:
        dep.create("a/b", "models:/churn/1")
    assert bad.value.field == "name"
    with pytest.raises(NotFoundError, match="no version 9"):
        dep.create("x", "models:/churn/9")
    with pytest.raises(InvalidInputError) as options:
        dep.create("y", "models:/churn/1", options=ServingOptions(max_batch_size=0))
    assert options.value.field == "max_batch_size"


def test_split_canary_shadow_rollback(versions: Platform) -> None:
    dep = versions.deployments
    dep.create("churn", "models:/churn@champion")
    with pytest.raises(ConflictError, match="nothing to roll back"):
        dep.rollback("churn")
    dep.create("churn-split", "models:/churn/1")
    split = dep.split("churn-split", [("models:/churn/1", 30), ("models:/churn/2", 70)])
    assert split.strategy is Strategy.SPLIT
    assert [(a.name, a.weight) for a in split.arms] == [("a", 30.0), ("b", 70.0)]
    for targets, field, match in [
        ([("models:/churn/1", 50), ("models:/churn/2", 40)], "weight", "add up to 100, not 90"),
        ([("models:/churn/1", "x")], "weight", "must be a number"),
        ([("models:/churn/1",)], "targets", "must be a \\(model URI, weight\\) pair"),
    ]:
        with pytest.raises(InvalidInputError, match=match) as info:
            dep.split("churn-split", targets)
        assert info.value.field == field
    with pytest.raises(InvalidInputError, match="increase strictly: 5 follows 5") as steps:
        dep.canary("churn", "models:/churn/2", steps=(5, 5, 100))
    assert steps.value.field == "steps"
    with pytest.raises(InvalidInputError, match="whole percentage"):
        dep.canary("churn", "models:/churn/2", steps=(5.5, 100))
    shadow = dep.shadow("churn", "models:/churn/2", percent=50)
    assert [(a.name, a.role) for a in shadow.arms] == [
        ("primary", ArmRole.SERVING),
        ("shadow", ArmRole.SHADOW),
    ]
    canary = dep.canary("churn", "models:/churn/2", steps=(10, 100), interval_s=60)
    assert canary.canary is not None
    assert canary.canary.steps == (10, 100)
    assert dep.status("churn").canary is not None
    stats = {"candidate": ArmStats(arm="candidate", version=2, since=0, requests=100, p99_ms=9.0)}
    assert dep.canary_tick("churn", stats, now_ms=canary.updated_at + 1) is None
    stepped = dep.canary_tick("churn", stats, now_ms=canary.updated_at + 120_000)
    assert stepped is not None
    with pytest.raises(ConflictError):
        dep.canary_tick("churn", stats, now_ms=canary.updated_at + 1, expected_revision=1)
    back = dep.rollback("churn", reason="not now")
    assert back.strategy is Strategy.SINGLE
    last = dep.history("churn")[-1]
    assert (last.action, last.reason) == ("rollback", "not now")


def test_feedback(platform: Platform) -> None:
    dep = platform.deployments
    result = dep.record_feedback("churn", [("r1", 1), {"request_id": "r2", "label": "yes"}])
    assert (result.stored, result.unknown) == (2, ())
    assert {f.request_id: f.label for f in dep.feedback_for("churn")} == {"r1": 1, "r2": "yes"}
    assert dep.feedback_for("churn", since=2**62) == []
    with pytest.raises(InvalidInputError, match="not a JSON value") as info:
        dep.record_feedback("churn", [("r3", object())])
    assert info.value.field == "label"
    with pytest.raises(InvalidInputError, match="needs request_id and label"):
        dep.record_feedback("churn", [{"request_id": "r4"}])
