"""Both stores accept exactly the same data: what one refuses, the other refuses too, as
InvalidInputError (400), never StoreError (503, "retry later") or a library's exception."""

from __future__ import annotations

import pytest

from mlcycle.entities import Experiment, RegisteredModel
from mlcycle.errors import InvalidInputError, NotFoundError, StoreError
from mlcycle.store.sql.store import SqlStore
from tests.store.helpers import batch, experiment, run


def test_nul_characters_are_refused_by_every_store(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="name must not contain NUL"):
        store.experiments.create(Experiment(id="e1", name="a\x00b", created_at=1, updated_at=1))
    experiment(store)
    run(store, "r1")
    with pytest.raises(InvalidInputError, match="value must not contain NUL"):
        store.runs.log_params("r1", {"p": "a\x00b"})
    with pytest.raises(InvalidInputError, match="NUL"):
        store.runs.set_tags("r1", {"t": "\x00"})
    with pytest.raises(InvalidInputError, match="NUL"):
        store.experiments.get_by_name("x\x00")  # reads too: PostgreSQL refuses to compare
    run_ = store.runs.get("r1")
    assert (run_.params, run_.tags) == ({}, {})


def test_integers_past_their_column_are_refused(store: SqlStore) -> None:
    experiment(store)
    with pytest.raises(InvalidInputError, match="start_time must be a 64-bit integer"):
        run(store, "r1", start=2**63)
    run(store, "r2", start=2**63 - 1)  # the largest 64-bit integer is fine
    assert store.runs.get("r2").start_time == 2**63 - 1
    with pytest.raises(InvalidInputError, match="version must be a 32-bit integer"):
        store.registry.get_version("m", 2**40)
    with pytest.raises(NotFoundError):
        store.registry.get_version("m", 2**31 - 1)


def test_text_longer_than_its_column_is_refused_on_write_only(store: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="name must have at most 500 characters"):
        store.experiments.create(Experiment(id="e1", name="x" * 501, created_at=1, updated_at=1))
    assert store.experiments.get_by_name("x" * 501) is None  # a lookup just finds nothing
    with pytest.raises(InvalidInputError, match="at most"):
        store.registry.create_model(RegisteredModel(name="m" * 600), model_id="m1")


def test_a_statement_binding_too_many_values_is_bad_input(store: SqlStore) -> None:
    ids = [f"e{i}" for i in range(40_000)]
    with pytest.raises(InvalidInputError, match="at most 1000"):
        store.search_runs(ids)
    with pytest.raises(InvalidInputError, match="at most 30000 are allowed"):
        store.runs.ids(experiment_ids=ids)


def test_writes_in_one_transaction_block_are_all_or_nothing(store: SqlStore) -> None:
    experiment(store)
    run(store, "r1")

    def half_a_batch() -> None:
        with store.transaction():
            store.runs.log_params("r1", {"a": "1"})
            store.runs.set_tags("r1", {"t": "v"})
            store.metrics.write("r1", [batch("m", [1.0])])
            store.runs.log_params("r1", {"b": "\x00"})

    with pytest.raises(InvalidInputError):
        half_a_batch()
    got = store.runs.get("r1")
    assert (got.params, got.tags, got.metrics) == ({}, {}, {})
    with store.transaction():
        store.runs.log_params("r1", {"a": "1"})
        store.metrics.write("r1", [batch("m", [1.0])])
        assert store.runs.get("r1").params == {"a": "1"}  # reads inside see the writes
    assert store.runs.get("r1").metrics == {"m": 1.0}


def test_bad_input_is_never_reported_as_the_store_being_unavailable(store: SqlStore) -> None:
    experiment(store)
    run(store, "r9")
    for attempt in (
        lambda: run(store, "r1", start=-(2**63) - 1),
        lambda: store.runs.log_params("r9", {"k": "\x00"}),
        lambda: store.search_runs([f"e{i}" for i in range(5000)]),
    ):
        with pytest.raises(InvalidInputError) as info:
            attempt()
        assert not isinstance(info.value, StoreError)
