"""The registry repository on SQLite and PostgreSQL: numbering, aliases, gate results."""

from __future__ import annotations

import concurrent.futures
import itertools

import pytest

from mlcycle.entities import GateResult, ModelVersion, ModelVersionStatus, RegisteredModel
from mlcycle.errors import AlreadyExistsError, NotFoundError
from mlcycle.store.sql.store import SqlStore

_ids = itertools.count()


def _id() -> str:
    return f"{next(_ids):032x}"


def _version(name: str = "m", run_id: str = "r" * 32) -> ModelVersion:
    return ModelVersion(
        name=name,
        version=0,
        run_id=run_id,
        artifact_path="model",
        flavor="sklearn",
        signature={"inputs": []},
        tags={"k": "v"},
        created_at=5,
    )


def test_versions_are_numbered_per_model_and_create_the_model(store: SqlStore) -> None:
    repo = store.registry
    a1 = repo.create_version(_version("a"), model_id=_id(), version_id=_id())
    a2 = repo.create_version(_version("a"), model_id=_id(), version_id=_id())
    b1 = repo.create_version(_version("b"), model_id=_id(), version_id=_id())
    assert [a1.version, a2.version, b1.version] == [1, 2, 1]
    assert a1.signature == {"inputs": []}
    assert dict(a1.tags) == {"k": "v"}
    assert [m.name for m in repo.list_models()] == ["a", "b"]
    assert repo.latest_version("a").version == 2
    with pytest.raises(AlreadyExistsError, match="'a'"):
        repo.create_model(RegisteredModel(name="a"), model_id=_id())


def test_concurrent_registrations_get_distinct_numbers(store: SqlStore) -> None:
    repo = store.registry
    repo.create_model(RegisteredModel(name="m"), model_id=_id())
    ids = [(_id(), _id()) for _ in range(8)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        numbers = list(
            pool.map(
                lambda pair: (
                    repo.create_version(_version(), model_id=pair[0], version_id=pair[1]).version
                ),
                ids,
            )
        )
    assert sorted(numbers) == list(range(1, 9))


def test_aliases_status_and_gate_results(store: SqlStore) -> None:
    repo = store.registry
    for _ in range(2):
        repo.create_version(_version(), model_id=_id(), version_id=_id())
    assert repo.set_alias("m", "champion", 1, at=10) is None
    assert repo.set_alias("m", "champion", 2, at=11) == 1
    assert repo.alias_version("m", "champion").version == 2
    assert repo.get_model("m").aliases == {"champion": 2}
    assert repo.get_version("m", 2).aliases == ("champion",)
    repo.delete_alias("m", "champion")
    with pytest.raises(NotFoundError, match="no alias 'champion'"):
        repo.alias_version("m", "champion")
    updated = repo.update_version("m", 1, updated_at=12, status=ModelVersionStatus.RETIRED)
    assert updated.status is ModelVersionStatus.RETIRED
    result = GateResult(gate="g", passed=False, value=0.5, threshold=0.7, detail="d", created_at=3)
    repo.add_gate_results("m", 1, [result], ids=[_id()])
    assert repo.gate_results("m", 1) == [result]
    with pytest.raises(NotFoundError, match="no version 9"):
        repo.gate_results("m", 9)
    with pytest.raises(NotFoundError, match="'zz'"):
        repo.list_versions("zz")
