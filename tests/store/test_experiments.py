"""Experiments on every SQL backend."""

from __future__ import annotations

import pytest

from mlcycle.entities import Direction, Experiment, LifecycleStage, Problem, Task
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.store.sql.store import SqlStore


def make(exp_id: str, name: str, **kw: object) -> Experiment:
    return Experiment(id=exp_id, name=name, created_at=1, updated_at=1, **kw)  # type: ignore[arg-type]


def test_create_and_get_round_trip_the_problem(store: SqlStore) -> None:
    problem = Problem(
        task=Task.CLASSIFICATION,
        target="churned",
        primary_metric="roc_auc",
        direction=Direction.MAXIMIZE,
        threshold=0.8,
    )
    store.experiments.create(make("e1", "churn", problem=problem, tags={"team": "a"}))
    got = store.experiments.get("e1")
    assert got.problem == problem
    assert got.tags == {"team": "a"}
    assert store.experiments.get_by_name("churn") == got


def test_duplicate_name_is_refused(store: SqlStore) -> None:
    store.experiments.create(make("e1", "same"))
    with pytest.raises(AlreadyExistsError, match="same"):
        store.experiments.create(make("e2", "same"))


def test_unknown_id_names_the_id(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        store.experiments.get("nope")
    assert store.experiments.get_by_name("nope") is None


def test_rename_describe_and_soft_delete(store: SqlStore) -> None:
    store.experiments.create(make("e1", "old"))
    store.experiments.create(make("e2", "other"))
    renamed = store.experiments.update("e1", updated_at=5, name="new", description="d")
    assert (renamed.name, renamed.description, renamed.updated_at) == ("new", "d", 5)
    with pytest.raises(AlreadyExistsError):
        store.experiments.update("e1", updated_at=6, name="other")
    store.experiments.update(
        "e1", updated_at=7, lifecycle_stage=LifecycleStage.DELETED, deleted_at=7
    )
    assert [e.id for e in store.experiments.list()] == ["e2"]
    both = store.experiments.list((LifecycleStage.ACTIVE, LifecycleStage.DELETED))
    assert {e.id for e in both} == {"e1", "e2"}
    assert store.experiments.deleted_before(8) == ["e1"]
    assert store.experiments.deleted_before(7) == []
    store.experiments.update("e1", updated_at=9, lifecycle_stage=LifecycleStage.ACTIVE)
    assert store.experiments.get("e1").deleted_at is None


def test_tags_replace_per_key(store: SqlStore) -> None:
    store.experiments.create(make("e1", "x", tags={"a": "1", "b": "2"}))
    store.experiments.set_tags("e1", {"a": "3"})
    assert store.experiments.get("e1").tags == {"a": "3", "b": "2"}
    with pytest.raises(NotFoundError):
        store.experiments.set_tags("missing", {"a": "1"})


def test_update_unknown_experiment(store: SqlStore) -> None:
    with pytest.raises(NotFoundError):
        store.experiments.update("missing", updated_at=1, name="z")


def test_purge_removes_for_good(store: SqlStore) -> None:
    store.experiments.create(make("e1", "x", tags={"a": "1"}))
    store.experiments.purge(["e1"])
    with pytest.raises(NotFoundError):
        store.experiments.get("e1")
