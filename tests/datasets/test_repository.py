"""The dataset repository contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from mlcycle.entities import (
    ColumnSchema,
    DatasetProfile,
    DatasetVersion,
    LifecycleStage,
    RuleResult,
    RunInput,
    Transform,
    ValidationRecord,
    ValidationReport,
)
from mlcycle.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlcycle.store.sql.store import SqlStore
from tests.store.helpers import experiment, run

PROFILE = DatasetProfile(num_rows=3, columns=())


def version(vid: str, name: str = "d", digest: str = "a" * 64, at: int = 1) -> DatasetVersion:
    return DatasetVersion(
        id=vid,
        dataset_id=f"ds-{name}",
        name=name,
        version=0,
        digest=digest,
        storage_key=f"datasets/{digest[:2]}/{digest}.parquet",
        num_rows=3,
        num_columns=1,
        size_bytes=100,
        schema=(ColumnSchema(name="x", type="int64", logical_type="integer"),),
        profile=PROFILE,
        created_at=at,
        tags={"k": "v"},
    )


REPORT = ValidationReport(
    num_rows=3, results=(RuleResult("unique(x)", "unique", "x", False, "1 of 3 rows", 1),)
)


def test_versions_are_numbered_per_dataset_and_read_back(store: SqlStore) -> None:
    repo = store.datasets
    v1 = repo.create_version(version("v1", digest="a" * 64))
    v2 = repo.create_version(version("v2", digest="b" * 64, at=2))
    other = repo.create_version(version("o1", name="e", digest="a" * 64))
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v1.dataset_id == v2.dataset_id != other.dataset_id
    assert repo.get_version("d").id == "v2"
    assert repo.get_version("d", 1) == v1
    assert repo.get_version_by_id("v1") == v1
    assert v1.schema == version("v1").schema
    assert v1.profile == PROFILE
    assert v1.tags == {"k": "v"}
    assert [v.id for v in repo.list_versions("d")] == ["v1", "v2"]
    summary = {d.name: (d.latest_version, d.version_count) for d in repo.list_datasets()}
    assert summary == {"d": (2, 2), "e": (1, 1)}


def test_one_digest_per_dataset(store: SqlStore) -> None:
    repo = store.datasets
    repo.create_version(version("v1"))
    with pytest.raises(AlreadyExistsError, match="version 1"):
        repo.create_version(version("v2"))
    assert repo.find_by_digest("a" * 64, "d") is not None
    assert repo.find_by_digest("a" * 64, "other") is None
    assert repo.find_by_digest("c" * 64) is None


def test_missing_things_are_named(store: SqlStore) -> None:
    repo = store.datasets
    with pytest.raises(NotFoundError, match="no dataset named 'd'"):
        repo.get_version("d")
    repo.create_version(version("v1"))
    with pytest.raises(NotFoundError, match="no version 7"):
        repo.get_version("d", 7)
    with pytest.raises(NotFoundError, match="no dataset version with ID 'nope'"):
        repo.get_version_by_id("nope")


def test_soft_delete_of_versions_and_datasets(store: SqlStore) -> None:
    repo = store.datasets
    repo.create_version(version("v1"))
    repo.create_version(version("v2", digest="b" * 64, at=2))
    repo.set_version_stage("v2", LifecycleStage.DELETED, 5)
    assert repo.get_version("d").id == "v1"  # the latest active one
    with pytest.raises(NotFoundError, match="deleted"):
        repo.get_version("d", 2)
    assert repo.get_version("d", 2, include_deleted=True).deleted_at == 5
    both = (LifecycleStage.ACTIVE, LifecycleStage.DELETED)
    assert len(repo.list_versions("d", both)) == 2
    repo.set_dataset_stage("d", LifecycleStage.DELETED, 6)
    assert repo.list_datasets() == []
    with pytest.raises(NotFoundError, match="deleted"):
        repo.get_version("d")
    with pytest.raises(InvalidInputError, match="restore"):
        repo.create_version(version("v3", digest="c" * 64))
    assert repo.set_dataset_stage("d", LifecycleStage.ACTIVE, None).latest_version == 1


def test_lineage_is_stored_with_the_version(store: SqlStore) -> None:
    repo = store.datasets
    repo.create_version(version("p1", name="raw", digest="a" * 64))
    repo.create_version(version("p2", name="extra", digest="b" * 64))
    step = Transform(name="join", params={"on": ["id"]}, code_ref="pkg.mod:join")
    child = repo.create_version(
        version("c1", name="joined", digest="c" * 64), parent_ids=["p1", "p2"], transform=step
    )
    assert [(p.parent_name, p.parent_version) for p in child.parents] == [("raw", 1), ("extra", 1)]
    assert child.parents[0].transform == step
    assert [c.version_id for c in repo.children("p1")] == ["c1"]
    assert repo.children("c1") == []
    repo.add_parents("c1", ["p1"], Transform(name="other"), 9)  # already there: kept
    assert repo.get_version_by_id("c1").parents == child.parents
    with pytest.raises(NotFoundError, match="'missing'"):
        repo.create_version(
            version("c2", name="joined", digest="d" * 64), parent_ids=["missing"], transform=step
        )
    assert repo.get_version("joined").id == "c1"  # nothing of c2 was stored


def test_validation_reports_and_tags(store: SqlStore) -> None:
    repo = store.datasets
    record = ValidationRecord(id="r1", version_id="v1", created_at=3, report=REPORT)
    stored = repo.create_version(version("v1"), validation=record)
    assert stored.validation == REPORT
    passed = dataclasses.replace(REPORT, results=())
    repo.add_validation(ValidationRecord(id="r2", version_id="v1", created_at=4, report=passed))
    assert [r.passed for r in repo.validations("v1")] == [False, True]
    assert repo.get_version_by_id("v1").validation == passed
    repo.set_tags("v1", {"a": "1"})
    repo.delete_tag("v1", "k")
    assert repo.get_version_by_id("v1").tags == {"a": "1"}
    with pytest.raises(NotFoundError):
        repo.delete_tag("v1", "k")


def test_source_fingerprints(store: SqlStore) -> None:
    repo = store.datasets
    repo.create_version(version("v1"), fingerprint="csv:123")
    assert repo.digest_of_source("csv:123") == "a" * 64
    repo.add_source("csv:123", "a" * 64, 2)  # recorded twice: kept once
    repo.add_source("parquet:9", "a" * 64, 2)
    assert repo.digest_of_source("parquet:9") == "a" * 64
    assert repo.digest_of_source("parquet:0") is None


def test_run_inputs_both_ways(store: SqlStore) -> None:
    repo = store.datasets
    experiment(store)
    run(store, "r1")
    run(store, "r2")
    repo.create_version(version("v1"))
    repo.create_version(version("v2", name="e", digest="b" * 64))

    def used(run_id: str, vid: str, context: str, at: int) -> RunInput:
        return RunInput(
            run_id=run_id,
            version_id=vid,
            name="",
            version=0,
            digest="",
            context=context,
            created_at=at,
        )

    first = repo.add_run_input(used("r1", "v1", "train", 10))
    assert (first.name, first.version, first.digest) == ("d", 1, "a" * 64)
    repo.add_run_input(used("r1", "v1", "train", 11))  # again: one record
    repo.add_run_input(used("r1", "v2", "eval", 12))
    repo.add_run_input(used("r2", "v1", "train", 13))
    assert [(i.name, i.context) for i in repo.run_inputs("r1")] == [("d", "train"), ("e", "eval")]
    assert [i.run_id for i in repo.version_inputs("v1")] == ["r1", "r2"]
    with pytest.raises(NotFoundError, match="no run"):
        repo.add_run_input(used("r9", "v1", "train", 1))
    with pytest.raises(NotFoundError, match="dataset version"):
        repo.add_run_input(used("r1", "v9", "train", 1))
    store.runs.purge(["r2"])
    assert [i.run_id for i in repo.version_inputs("v1")] == ["r1"]
