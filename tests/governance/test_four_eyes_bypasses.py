"""The four-eyes bypasses of issue 17: protection follows the model (not its name), and every
operation that changes where a protected alias points needs an approval."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import mlcycle
from mlcycle.entities.governance import ApprovalStatus
from mlcycle.errors import ApprovalRequiredError, NotFoundError
from mlcycle.governance.actor import acting_as
from mlcycle.governance.service import GovernanceService
from mlcycle.store.sql.store import SqlStore
from tests.conftest import local_backend
from tests.registry.conftest import log_version


@pytest.fixture
def guarded(store: SqlStore, gclient: mlcycle.Client) -> GovernanceService:
    """Auth-on governance over "churn" v1 (champion and production) and v2; production is
    protected for churn only."""
    gov = GovernanceService(store.governance, auth_enabled=True)
    for role in ("editor", "approver", "admin"):
        gov.users.create_user(role, role=role)
    log_version(gclient, auc=0.80)
    log_version(gclient, auc=0.85)
    local_backend(gclient).registry_service.set_alias("churn", "champion", 1)
    local_backend(gclient).registry_service.set_alias("churn", "production", 1)
    gov.attach_registry(local_backend(gclient).registry_service)
    with acting_as("admin"):
        gov.approvals.protect("alias", "churn", "production")
    return gov


def test_renaming_the_model_does_not_shed_its_protection(
    guarded: GovernanceService, gclient: mlcycle.Client
) -> None:
    registry = local_backend(gclient).registry_service
    with acting_as("editor"):
        registry.rename_model("churn", "churn-tmp")
        with pytest.raises(ApprovalRequiredError, match="'production'"):
            registry.set_alias("churn-tmp", "production", 2)
        registry.rename_model("churn-tmp", "churn")
    assert registry.get_model("churn").aliases["production"] == 1
    # the rule is shown under the model's current name, and a new model called like the old
    # name is not protected by it
    rules = {(p.target, p.name) for p in guarded.approvals.protections()}
    assert ("churn", "production") in rules
    with acting_as("editor"):
        registry.rename_model("churn", "churn-v2")
    assert ("churn-v2", "production") in {
        (p.target, p.name) for p in guarded.approvals.protections()
    }


def test_protecting_an_unknown_model_says_so(guarded: GovernanceService) -> None:
    with acting_as("admin"), pytest.raises(NotFoundError, match="register it before"):
        guarded.approvals.protect("alias", "ghost", "production")


@pytest.mark.parametrize("operation", ["delete_alias", "delete_version", "fail", "delete_model"])
def test_removing_a_protected_alias_needs_an_approval(
    guarded: GovernanceService, gclient: mlcycle.Client, operation: str
) -> None:
    registry = local_backend(gclient).registry_service
    remove: Callable[[], object] = {
        "delete_alias": lambda: registry.delete_alias("churn", "production"),
        "delete_version": lambda: registry.delete_version("churn", 1),
        "fail": lambda: registry.set_status("churn", 1, "failed"),
        "delete_model": lambda: registry.delete_model("churn"),
    }[operation]
    with acting_as("editor"), pytest.raises(ApprovalRequiredError, match="delete_alias"):
        remove()
    model = registry.get_model("churn")
    assert model.aliases == {"champion": 1, "production": 1}


def test_an_approved_removal_is_applied_once(
    guarded: GovernanceService, gclient: mlcycle.Client
) -> None:
    with acting_as("editor"):
        local_backend(gclient).registry_service.set_alias(
            "churn", "challenger", 2
        )  # unprotected: no approval
        local_backend(gclient).registry_service.delete_alias("churn", "challenger")
        request = guarded.approvals.request(
            "alias", "churn", version=1, alias="production", action="delete_alias"
        )
    with acting_as("approver"):
        done = guarded.approvals.approve(request.id)
    assert done.status == ApprovalStatus.APPLIED
    assert "production" not in local_backend(gclient).registry_service.get_model("churn").aliases
