"""Runs, params and tags on every SQL backend."""

from __future__ import annotations

import pytest

from mlcycle.entities import LifecycleStage, RunStatus
from mlcycle.errors import ConflictError, InvalidInputError, NotFoundError
from mlcycle.store.sql.store import SqlStore
from tests.store.helpers import batch, experiment, run


def test_create_and_get(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    got = store.runs.get("r1")
    assert got.status is RunStatus.RUNNING
    assert (got.params, got.metrics, got.tags) == ({}, {}, {})
    assert got.duration is None


def test_run_needs_an_active_experiment_and_existing_parent(store: SqlStore) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        run(store, "r1", "missing")
    experiment(store)
    with pytest.raises(NotFoundError, match="parent"):
        run(store, "r1", parent="ghost")
    assert store.runs.ids(experiment_ids=["e1"]) == []


def test_params_are_immutable_and_named_in_the_conflict(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    store.runs.log_params("r1", {"lr": "0.1", "depth": "3"})
    store.runs.log_params("r1", {"lr": "0.1"})  # same value again: fine
    with pytest.raises(ConflictError, match=r"'0\.1'.*'0\.2'"):
        store.runs.log_params("r1", {"lr": "0.2", "new": "x"})
    # the failed call wrote nothing, not even the new key
    assert store.runs.get("r1").params == {"lr": "0.1", "depth": "3"}


def test_finished_runs_refuse_params_and_metrics(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    store.runs.update("r1", status=RunStatus.FINISHED, end_time=2000)
    with pytest.raises(InvalidInputError, match="FINISHED"):
        store.runs.log_params("r1", {"a": "1"})
    with pytest.raises(InvalidInputError, match="finished"):
        store.metrics.write("r1", [batch("m", [1.0])])
    got = store.runs.get("r1")
    assert got.duration == 1000
    store.runs.set_tags("r1", {"note": "tags still change"})
    assert store.runs.get("r1").tags == {"note": "tags still change"}


def test_tags_set_replace_and_delete(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    store.runs.set_tags("r1", {"a": "1", "b": "2"})
    store.runs.set_tags("r1", {"a": "3"})
    assert store.runs.get("r1").tags == {"a": "3", "b": "2"}
    store.runs.delete_tag("r1", "b")
    assert store.runs.get("r1").tags == {"a": "3"}
    with pytest.raises(NotFoundError, match="'b'"):
        store.runs.delete_tag("r1", "b")


def test_unknown_run_everywhere(store: SqlStore) -> None:
    for call in (
        lambda: store.runs.get("zz"),
        lambda: store.runs.log_params("zz", {"a": "1"}),
        lambda: store.runs.set_tags("zz", {"a": "1"}),
        lambda: store.runs.update("zz", name="n"),
        lambda: store.metrics.write("zz", [batch("m", [1.0])]),
        lambda: store.metrics.history("zz", "m"),
        lambda: store.runs.set_stage(["zz"], LifecycleStage.DELETED, 1),
    ):
        with pytest.raises(NotFoundError, match="zz"):
            call()


def test_soft_delete_restore_and_purge(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")
    run(store, "r2", parent="r1")
    store.runs.log_params("r1", {"a": "1"})
    store.metrics.write("r1", [batch("m", [1.0, 2.0])])
    store.runs.set_stage(["r1"], LifecycleStage.DELETED, 50)
    assert store.runs.get("r1").lifecycle_stage is LifecycleStage.DELETED
    assert store.runs.ids(deleted_before=51) == ["r1"]
    assert store.runs.ids(parent_id="r1") == ["r2"]
    store.runs.set_stage(["r1"], LifecycleStage.ACTIVE, None)
    assert store.runs.ids(deleted_before=51) == []
    store.runs.purge(["r1"])
    with pytest.raises(NotFoundError):
        store.runs.get("r1")
    assert store.runs.get("r2").parent_id is None
