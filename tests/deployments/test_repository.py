"""The deployments repository on SQLite and PostgreSQL: compare-and-set on the revision,
history, soft delete and reuse of a name, feedback upserts."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from mlcycle.entities import (
    Arm,
    CanaryPolicy,
    Deployment,
    DeploymentEvent,
    DeploymentStatus,
    Feedback,
    ServingOptions,
    Strategy,
)
from mlcycle.errors import AlreadyExistsError, ConflictError, NotFoundError
from mlcycle.ids import new_id
from mlcycle.store.sql.store import SqlStore, open_store

ARMS = (Arm(name="primary", model_uri="models:/churn@champion"),)


def _deployment(name: str = "churn", revision: int = 1, **changes: object) -> Deployment:
    base = Deployment(
        name=name,
        model_uri="models:/churn@champion",
        arms=ARMS,
        stable_arms=ARMS,
        options=ServingOptions(max_batch_size=8, routing_key="customer_id", trusted=("a.B",)),
        revision=revision,
        description="the churn model",
        created_at=1000,
        updated_at=1000 + revision,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _event(revision: int, action: str = "create", name: str = "churn") -> DeploymentEvent:
    return DeploymentEvent(
        deployment=name,
        revision=revision,
        action=action,
        at=1000 + revision,
        actor="ana",
        reason=f"because {revision}",
        before={"arms": []} if revision > 1 else None,
        after={"arms": [{"name": "primary", "weight": 100.0}]},
    )


def test_create_get_list_round_trip(store: SqlStore) -> None:
    repo = store.deployments
    created = repo.create(_deployment(), _event(1), deployment_id=new_id())
    assert repo.get("churn") == created
    repo.create(_deployment("abc"), _event(1, name="abc"), deployment_id=new_id())
    assert [d.name for d in repo.list_deployments()] == ["abc", "churn"]
    with pytest.raises(AlreadyExistsError, match="'churn' exists already"):
        repo.create(_deployment(), _event(1), deployment_id=new_id())
    with pytest.raises(NotFoundError, match="deployment 'nope' does not exist"):
        repo.get("nope")
    with pytest.raises(NotFoundError):
        repo.history("nope")


def test_update_is_a_compare_and_set(store: SqlStore) -> None:
    repo = store.deployments
    repo.create(_deployment(), _event(1), deployment_id=new_id())
    canary = CanaryPolicy(
        candidate="models:/churn/2", steps=(5, 100), interval_s=60.0, max_p99_ms=50.0
    )
    arms = (
        Arm(name="primary", model_uri="models:/churn@champion", weight=95.0),
        Arm(name="candidate", model_uri="models:/churn/2", weight=5.0),
    )
    second = _deployment(revision=2, arms=arms, strategy=Strategy.CANARY, canary=canary)
    assert repo.update(second, _event(2, "canary"), expected_revision=1) == second
    assert repo.get("churn") == second
    # A writer that read revision 1 too loses, and nothing of its change is stored.
    stale = _deployment(revision=2, description="stale")
    with pytest.raises(ConflictError, match=r"changed since revision 1 .*at revision 2"):
        repo.update(stale, _event(2, "split"), expected_revision=1)
    assert repo.get("churn") == second
    assert [(e.revision, e.action) for e in repo.history("churn")] == [(1, "create"), (2, "canary")]
    event = repo.history("churn")[1]
    assert event == _event(2, "canary")


def test_only_one_of_concurrent_writers_wins(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(4)]
    try:
        stores[0].deployments.create(_deployment(), _event(1), deployment_id=new_id())
        barrier = threading.Barrier(len(stores))
        outcomes: list[str] = []

        def write(i: int, store: SqlStore) -> None:
            barrier.wait()
            try:
                store.deployments.update(
                    _deployment(revision=2, description=f"writer {i}"),
                    _event(2, f"step{i}"),
                    expected_revision=1,
                )
                outcomes.append("won")
            except ConflictError:
                outcomes.append("lost")

        threads = [threading.Thread(target=write, args=(i, s)) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
        history = stores[0].deployments.history("churn")
        assert len(history) == 2
        winner = stores[0].deployments.get("churn").description
        assert winner == f"writer {history[1].action.removeprefix('step')}"
    finally:
        for s in stores:
            s.close()


def test_deleted_name_is_reused_with_history_kept(store: SqlStore) -> None:
    repo = store.deployments
    repo.create(_deployment(), _event(1), deployment_id=new_id())
    deleted = _deployment(revision=2, status=DeploymentStatus.DELETED)
    repo.update(deleted, _event(2, "delete"), expected_revision=1)
    with pytest.raises(NotFoundError):
        repo.get("churn")
    assert repo.get("churn", include_deleted=True).status is DeploymentStatus.DELETED
    assert repo.list_deployments() == []
    assert [d.name for d in repo.list_deployments(include_deleted=True)] == ["churn"]
    again = repo.create(_deployment(model_uri="models:/churn/2"), _event(1), deployment_id=new_id())
    assert again.revision == 3
    assert repo.get("churn") == again
    assert [(e.revision, e.action) for e in repo.history("churn")] == [
        (1, "create"),
        (2, "delete"),
        (3, "create"),
    ]


def test_feedback_upserts_and_filters_by_time(store: SqlStore) -> None:
    repo = store.deployments
    assert repo.put_feedback([]) == 0
    items = [
        Feedback(deployment="churn", request_id="r1", label=1, at=100),
        Feedback(deployment="churn", request_id="r2", label={"y": [0.5, None]}, at=200),
        Feedback(deployment="other", request_id="r1", label="x", at=150),
    ]
    assert repo.put_feedback(items) == 3
    # A second label for the same request replaces the first (within a call as well).
    assert (
        repo.put_feedback(
            [
                Feedback(deployment="churn", request_id="r1", label=0, at=300),
                Feedback(deployment="churn", request_id="r1", label=2, at=300),
            ]
        )
        == 1
    )
    got = repo.feedback("churn")
    assert [(f.request_id, f.label, f.at) for f in got] == [
        ("r2", {"y": [0.5, None]}, 200),
        ("r1", 2, 300),
    ]
    assert [f.request_id for f in repo.feedback("churn", since=250)] == ["r1"]
    assert [f.request_id for f in repo.feedback("churn", until=250)] == ["r2"]
    assert repo.feedback("nobody") == []


def test_many_feedback_rows_in_one_call(store: SqlStore) -> None:
    items = [
        Feedback(deployment="churn", request_id=f"r{i:05d}", label=i % 2, at=i)
        for i in range(12_000)
    ]
    assert store.deployments.put_feedback(items) == 12_000
    assert len(store.deployments.feedback("churn", since=11_000)) == 1000
