"""Four eyes in-process (auth on): a protected alias moves only after a second person with
the approver role approves; self-approval, an editor approving and unprotected changes."""

from __future__ import annotations

import time

import pytest

import mlcycle
from mlcycle.deployments.service import DeploymentService
from mlcycle.entities.deployments import ArmStats
from mlcycle.entities.governance import ApprovalStatus
from mlcycle.errors import (
    ApprovalRequiredError,
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from mlcycle.governance.actor import acting_as
from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import SqlStore
from tests.conftest import local_backend
from tests.registry.conftest import log_version


@pytest.fixture
def guarded(store: SqlStore, gclient: mlcycle.Client) -> GovernanceService:
    """Auth-on governance attached to the client's registry, with one user per role and
    two versions of the model "churn" (v1 the champion)."""
    gov = GovernanceService(store.governance, auth_enabled=True)
    for role in ("viewer", "editor", "approver", "admin"):
        gov.users.create_user(role, role=role)
    gov.users.create_user("approver2", role="approver")
    log_version(gclient, auc=0.80)
    log_version(gclient, auc=0.85)
    gclient.registry.set_alias("churn", "champion", 1)  # before protection applies
    gov.attach_registry(local_backend(gclient).registry_service)
    return gov


def test_a_protected_alias_needs_an_approval(
    guarded: GovernanceService, gclient: mlcycle.Client
) -> None:
    with acting_as("editor"), pytest.raises(ApprovalRequiredError, match="approvals request"):
        gclient.registry.set_alias("churn", "champion", 2)
    with acting_as("editor"), pytest.raises(ApprovalRequiredError):
        gclient.registry.promote("churn", 2)
    assert gclient.registry.get_model("churn").aliases["champion"] == 1
    # an unprotected alias moves freely
    with acting_as("editor"):
        gclient.registry.set_alias("churn", "challenger", 2)


def test_four_eyes(guarded: GovernanceService, gclient: mlcycle.Client) -> None:
    gclient.registry.promote("churn", 2, force=True, reason="record gates", alias="staging")
    with acting_as("approver"):
        request = guarded.approvals.request("alias", "churn", version=2, comment="beats v1")
    assert request.status == ApprovalStatus.PENDING
    assert request.requester == "approver"
    assert {g["gate"] for g in request.gates}  # the request shows the gate results
    with acting_as("approver"), pytest.raises(PermissionDeniedError, match="second person"):
        guarded.approvals.approve(request.id)
    with acting_as("editor"), pytest.raises(PermissionDeniedError, match="approver or admin"):
        guarded.approvals.approve(request.id)
    with acting_as("viewer"), pytest.raises(PermissionDeniedError):
        guarded.approvals.reject(request.id)
    with acting_as("approver2"):
        done = guarded.approvals.approve(request.id, comment="slices checked")
    assert done.status == ApprovalStatus.APPLIED
    assert done.decided_by == "approver2"
    assert gclient.registry.get_model("churn").aliases["champion"] == 2
    with acting_as("admin"), pytest.raises(ConflictError, match="is applied, not pending"):
        guarded.approvals.approve(request.id)
    # the approval was used up: moving back needs a new one
    with acting_as("admin"), pytest.raises(ApprovalRequiredError):
        gclient.registry.set_alias("churn", "champion", 1)
    actions = [e.action for e in guarded.trail.events() if e.target.startswith("approval:")]
    assert actions == ["approval.request", "approval.approve", "approval.apply"]
    alias_event = [e for e in guarded.trail.events() if e.action == "model.alias"][-1]
    assert alias_event.actor == "approver2"
    assert (alias_event.before, alias_event.after) == ({"champion": 1}, {"champion": 2})


def test_rejection_and_withdrawal(guarded: GovernanceService, gclient: mlcycle.Client) -> None:
    with acting_as("editor"):
        first = guarded.approvals.request("alias", "churn", version=2)
        second = guarded.approvals.request("alias", "churn", version=2)
        withdrawn = guarded.approvals.reject(second.id, comment="wrong version")
    with acting_as("approver"):
        rejected = guarded.approvals.reject(first.id, comment="not yet")
    assert (withdrawn.status, rejected.status) == (ApprovalStatus.REJECTED,) * 2
    assert gclient.registry.get_model("churn").aliases["champion"] == 1
    assert [a.id for a in guarded.approvals.list(status="rejected")] == [first.id, second.id]


def test_protection_is_configurable(guarded: GovernanceService, gclient: mlcycle.Client) -> None:
    with acting_as("editor"), pytest.raises(ConflictError, match="not protected"):
        guarded.approvals.request("alias", "churn", version=2, alias="challenger")
    with acting_as("admin"):
        guarded.approvals.protect("alias", "churn", "champion", protected=False)
        guarded.approvals.protect("alias", "*", "production")
    with acting_as("editor"):
        gclient.registry.set_alias("churn", "champion", 2)
        with pytest.raises(ApprovalRequiredError, match="'production'"):
            gclient.registry.set_alias("churn", "production", 2)


def test_deployment_rollouts_are_guarded(guarded: GovernanceService) -> None:
    assert guarded.guard.require("deployment", "churn-prod", "start") is None  # unprotected
    guarded.approvals.protect("deployment", "churn-prod")
    with pytest.raises(ApprovalRequiredError, match="--action start"):
        guarded.guard.require("deployment", "churn-prod", "start")
    with acting_as("editor"):
        made = guarded.approvals.request("deployment", "churn-prod", action="start")
    with acting_as("approver"):
        guarded.approvals.approve(made.id)
    assert guarded.guard.require("deployment", "churn-prod", "start") == made.id
    with pytest.raises(ApprovalRequiredError):  # used up
        guarded.guard.require("deployment", "churn-prod", "start")
    with pytest.raises(InvalidInputError, match="action must be one of"):
        guarded.approvals.request("deployment", "churn-prod", action="finish")


def test_without_auth_approvals_are_off_and_say_so(gclient: mlcycle.Client) -> None:
    log_version(gclient)
    gclient.registry.set_alias("churn", "champion", 1)  # nothing is protected
    with pytest.raises(ConflictError, match="approvals are off"):
        gclient.governance.request_approval("alias", "churn", version=1)
    rules, enforced = gclient.governance.protections()
    assert (rules, enforced) == ([], False)


def test_a_protected_deployment_needs_approvals_to_start_and_complete_a_canary(
    guarded: GovernanceService, gclient: mlcycle.Client, store: SqlStore
) -> None:
    service = DeploymentService(
        store.deployments,
        local_backend(gclient).deployment_service.resolver,
        guard=guarded.guard,
    )
    service.create("churn-prod", "models:/churn/1")
    guarded.approvals.protect("deployment", "churn-prod")
    with pytest.raises(ApprovalRequiredError, match="--action start"):
        service.canary("churn-prod", "models:/churn/2", steps=(100,), interval_s=1)
    assert service.get("churn-prod").canary is None  # traffic untouched
    for action in ("start", "complete"):
        with acting_as("editor"):
            made = guarded.approvals.request("deployment", "churn-prod", action=action)
        with acting_as("approver"):
            guarded.approvals.approve(made.id)
        if action == "start":
            started = service.canary("churn-prod", "models:/churn/2", steps=(100,), interval_s=1)
            assert started.canary is not None
            later = int(time.time() * 1000) + 60_000
            stats = {"candidate": ArmStats(arm="candidate", version=2, since=0, requests=100)}
            # Without a "complete" approval the candidate keeps all traffic and waits.
            assert service.canary_tick("churn-prod", stats, now_ms=later) is None
    done = service.canary_tick("churn-prod", stats, now_ms=later)
    assert done is not None
    assert done.action == "canary_complete"
    assert service.get("churn-prod").model_uri == "models:/churn/2"
