"""The composition root and the one place a capability is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlcycle
from mlcycle.backends import Backend, Capability, LocalBackend, open_backend, open_local
from mlcycle.backends.remote import HTTP_CLASSES, http_implementations
from mlcycle.entities.governance import AuditQuery
from mlcycle.errors import CapabilityUnavailableError, InvalidInputError
from mlcycle.remote import RemoteBackend
from mlcycle.settings import Settings


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {"MLCYCLE_TRACKING_URI": store_url, "MLCYCLE_ARTIFACT_URI": str(tmp_path / "art")}
    )


@pytest.fixture
def local(settings: Settings) -> Iterator[LocalBackend]:
    backend = open_local(settings)
    yield backend
    backend.close()


def test_a_store_uri_opens_the_local_root_with_every_capability(settings: Settings) -> None:
    backend = open_backend(settings)
    try:
        assert isinstance(backend, LocalBackend)
        assert all(backend.supports(cap) for cap in Capability)
    finally:
        backend.close()


def test_each_service_is_built_once_even_when_asked_concurrently(local: LocalBackend) -> None:
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(local.registry)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(s) for s in seen}) == 1
    assert local.registry is local.registry_service
    assert local.deployments is local.deployment_service


def test_every_service_writes_to_the_one_audit_trail(local: LocalBackend) -> None:
    local.registry.create_model("churn", description="d")
    local.tracking.create_experiment("e1")
    targets = {e.target for e in local.governance.audit_events(AuditQuery(limit=100))}
    assert "model:churn" in targets
    assert any(t.startswith("experiment:") for t in targets)
    assert local.governance.verify_audit().ok


def test_the_guard_is_on_with_auth_for_registry_and_deployments(settings: Settings) -> None:
    guarded = open_local(settings, auth=True)
    try:
        assert guarded.registry_service.guard is guarded.governance_service.guard
    finally:
        guarded.close()
    plain = open_local(settings)
    try:
        assert plain.registry_service.guard is None
    finally:
        plain.close()


def test_a_capability_not_offered_is_refused_in_one_place() -> None:
    tracking = RemoteBackend("http://127.0.0.1:9")
    backend = Backend(tracking=tracking, where="the test's backend")
    assert backend.supports(Capability.TRACKING)
    assert not backend.supports("datasets")
    for cap in [c for c in Capability if c is not Capability.TRACKING]:
        with pytest.raises(CapabilityUnavailableError) as refused:
            backend.require(cap)
        assert refused.value.capability == cap.value
        assert refused.value.field == "tracking_uri"
        assert "the test's backend" in str(refused.value)
        assert isinstance(refused.value, InvalidInputError)  # a 400 at the edges
    tracking.close()


def test_a_server_uri_offers_what_its_http_implementations_cover() -> None:
    client = mlcycle.Client("http://127.0.0.1:9")
    offered = set(http_implementations()) | {Capability.TRACKING}
    assert {c for c in Capability if client.backend.supports(c)} == offered
    assert set(HTTP_CLASSES) == set(Capability) - {Capability.TRACKING}
    assert offered == set(Capability)  # every capability is served
    client.close()


def test_a_tracking_api_given_to_the_client_offers_tracking_only(tmp_path: Path) -> None:
    tracking = RemoteBackend("http://127.0.0.1:9")
    client = mlcycle.Client("http://127.0.0.1:9", backend=tracking)
    assert client.tracking is tracking
    with pytest.raises(CapabilityUnavailableError, match="datasets not available"):
        _ = client.datasets
    client.close()
    tracking.close()
