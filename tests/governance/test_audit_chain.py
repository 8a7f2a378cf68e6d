"""The audit trail: a hash chain that names the first edited, removed or reordered event,
secrets scrubbed, concurrent appends never forking it (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import threading

from sqlalchemy import text

from mlcycle.entities.governance import GENESIS_HASH, AuditQuery
from mlcycle.governance.actor import acting_as
from mlcycle.governance.audit import AuditTrail, StoreAuditSink, verify_chain
from mlcycle.store.sql.store import SqlStore


def _fill(store: SqlStore, n: int = 6) -> StoreAuditSink:
    sink = StoreAuditSink(store.governance)
    for i in range(n):
        sink.record(
            "model.alias", f"model:m{i % 2}", before={"champion": i}, after={"champion": i + 1}
        )
    return sink


def test_events_link_into_a_chain(store: SqlStore) -> None:
    _fill(store)
    events = AuditTrail(store.governance).events()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    result = AuditTrail(store.governance).verify()
    assert result.ok
    assert result.events == 6
    assert result.head == events[-1].hash


def test_verify_names_an_edited_row(store: SqlStore) -> None:
    _fill(store)
    with store.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    result = AuditTrail(store.governance).verify()
    assert not result.ok
    assert result.first_bad == 3
    assert result.problem is not None
    assert "edited" in result.problem


def test_verify_names_an_edited_snapshot(store: SqlStore) -> None:
    _fill(store)
    with store.db.engine.begin() as conn:
        conn.execute(
            text('UPDATE audit_events SET "after" = :after WHERE seq = 5'),
            {"after": '{"champion":99}'},
        )
    result = AuditTrail(store.governance).verify()
    assert (result.ok, result.first_bad) == (False, 5)


def test_verify_names_a_removed_row(store: SqlStore) -> None:
    _fill(store)
    with store.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    result = AuditTrail(store.governance).verify()
    assert (result.ok, result.first_bad) == (False, 2)
    assert result.problem is not None
    assert "removed" in result.problem


def test_verify_names_reordered_rows(store: SqlStore) -> None:
    _fill(store)
    with store.db.engine.begin() as conn:  # swap events 3 and 4
        conn.execute(text("UPDATE audit_events SET seq = 100 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = 4"))
        conn.execute(text("UPDATE audit_events SET seq = 4 WHERE seq = 100"))
    result = AuditTrail(store.governance).verify()
    assert (result.ok, result.first_bad) == (False, 3)


def test_secrets_never_reach_the_trail(store: SqlStore) -> None:
    sink = StoreAuditSink(store.governance)
    sink.record(
        "token.create",
        "user:ana",
        after={"id": "t1", "token": "mlc_secret", "nested": [{"password": "hunter2"}]},
    )
    event = AuditTrail(store.governance).events()[0]
    assert event.after == {
        "id": "t1",
        "token": "[redacted]",
        "nested": [{"password": "[redacted]"}],
    }


def test_actor_comes_from_the_context(store: SqlStore) -> None:
    sink = StoreAuditSink(store.governance)
    sink.record("a.b", "x:1")
    with acting_as("ana"):
        sink.record("a.b", "x:2")
    first, second = AuditTrail(store.governance).events()
    assert first.actor.startswith("local")
    assert second.actor == "ana"


def test_filters(store: SqlStore) -> None:
    _fill(store)
    trail = AuditTrail(store.governance)
    assert [e.seq for e in trail.events(AuditQuery(target="model:m1"))] == [2, 4, 6]
    assert len(trail.events(AuditQuery(target="model:*"))) == 6
    assert trail.events(AuditQuery(actor="nobody")) == []
    assert [e.seq for e in trail.events(AuditQuery(after_seq=4))] == [5, 6]
    lines = list(trail.export_jsonl(AuditQuery(target="model:m0")))
    assert len(lines) == 3
    assert all(line.endswith("\n") for line in lines)


def test_concurrent_appends_never_fork_the_chain(store: SqlStore) -> None:
    sink = StoreAuditSink(store.governance)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                sink.record("test.write", f"w:{worker}", after={"i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events = list(AuditTrail(store.governance).iter_all())
    assert [e.seq for e in events] == list(range(1, 91))
    assert len({e.prev_hash for e in events}) == 90  # no two events share a parent
    assert verify_chain(events).ok
