"""Run search compiled to SQL, on every backend."""

from __future__ import annotations

import math

import pytest

from mlcycle.entities import LifecycleStage, RunStatus
from mlcycle.errors import InvalidInputError
from mlcycle.search import parse_filter, parse_order_by
from mlcycle.store.sql.store import SqlStore
from tests.store.helpers import batch, experiment, run


@pytest.fixture
def populated(store: SqlStore) -> SqlStore:
    """Six runs: r0..r5 with p1 in a/b/c, m1 = i/10, m2 = 1 - i/10, tags, mixed statuses."""
    experiment(store)
    experiment(store, "e2")
    for i in range(6):
        rid = f"r{i}"
        run(store, rid, name=f"run-{i}", start=1000 + i)
        store.runs.log_params(rid, {"p1": "abc"[i % 3], "p2": str(i)})
        store.metrics.write(rid, [batch("m1", [i / 10]), batch("m2", [1 - i / 10])])
        store.runs.set_tags(rid, {"team": "Blue" if i % 2 else "red"})
    store.runs.log_params("r0", {"only0": "x"})
    store.metrics.write("r5", [batch("nanm", [math.nan])])
    store.runs.update("r0", status=RunStatus.FINISHED, end_time=1100)
    store.runs.update("r1", status=RunStatus.FAILED, end_time=1500)
    run(store, "other", "e2", name="elsewhere")
    return store


def ids(store: SqlStore, filter: str | None = None, order: list[str] | None = None) -> list[str]:
    page = store.search_runs(["e1"], parse_filter(filter), parse_order_by(order))
    return [r.id for r in page.runs]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("metrics.m1 > 0.25", {"r3", "r4", "r5"}),
        ("metrics.m1 >= 0.3", {"r3", "r4", "r5"}),
        ("metrics.m1 < 0.1", {"r0"}),
        ("metrics.m1 <= 0.1", {"r0", "r1"}),
        ("metrics.m1 = 0.2", {"r2"}),
        ("metrics.m1 != 0.2", {"r0", "r1", "r3", "r4", "r5"}),
        ("params.p1 = 'a'", {"r0", "r3"}),
        ("params.p1 != 'a'", {"r1", "r2", "r4", "r5"}),
        ("params.p1 IN ('a', 'b')", {"r0", "r1", "r3", "r4"}),
        ("params.p1 NOT IN ('a', 'b')", {"r2", "r5"}),
        ("tags.team LIKE 'B%'", {"r1", "r3", "r5"}),
        ("tags.team LIKE 'b%'", set()),
        ("tags.team ILIKE 'b%'", {"r1", "r3", "r5"}),
        ("params.only0 IS NULL", {"r1", "r2", "r3", "r4", "r5"}),
        ("params.only0 IS NOT NULL", {"r0"}),
        ("metrics.nanm IS NOT NULL", {"r5"}),
        ("metrics.nanm > 0", set()),
        ("status = 'FINISHED'", {"r0"}),
        ("attributes.status IN ('FINISHED', 'FAILED')", {"r0", "r1"}),
        ("name = 'run-2'", {"r2"}),
        ("tags.mlflow.runName = 'run-2'", {"r2"}),
        ("run_id IN ('r1', 'r4')", {"r1", "r4"}),
        ("start_time >= 1004", {"r4", "r5"}),
        ("duration > 200", {"r1"}),
        ("end_time IS NULL", {"r2", "r3", "r4", "r5"}),
        ("metrics.m1 > 0.15 and params.p1 = 'a'", {"r3"}),
        ("metrics.m1 < 0.1 or params.p1 = 'c'", {"r0", "r2", "r5"}),
        ("not params.p1 = 'a'", {"r1", "r2", "r4", "r5"}),
        ("(params.p1 = 'b' or params.p1 = 'c') and metrics.m2 > 0.65", {"r1", "r2"}),
        ("params.p1 = 'b' or params.p1 = 'c' and metrics.m2 > 0.65", {"r1", "r2", "r4"}),
        ("metrics.missing > 0", set()),
    ],
)
def test_filters(populated: SqlStore, expr: str, expected: set[str]) -> None:
    assert set(ids(populated, expr)) == expected


def test_default_order_is_newest_first(populated: SqlStore) -> None:
    assert ids(populated) == ["r5", "r4", "r3", "r2", "r1", "r0"]


def test_order_by_metric_and_param(populated: SqlStore) -> None:
    assert ids(populated, order=["metrics.m2 DESC"]) == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert ids(populated, order=["params.p1", "metrics.m1 DESC"]) == [
        "r3",
        "r0",
        "r4",
        "r1",
        "r5",
        "r2",
    ]


def test_missing_values_sort_last_in_both_directions(populated: SqlStore) -> None:
    assert ids(populated, order=["params.only0 ASC"])[0] == "r0"
    assert ids(populated, order=["params.only0 DESC"])[0] == "r0"


def test_other_experiments_and_deleted_runs_are_excluded(populated: SqlStore) -> None:
    populated.runs.set_stage(["r2"], LifecycleStage.DELETED, 1)
    assert "r2" not in ids(populated)
    assert "other" not in ids(populated)
    both = populated.search_runs(
        ["e1", "e2"], stages=(LifecycleStage.ACTIVE, LifecycleStage.DELETED)
    )
    assert {r.id for r in both.runs} == {"r0", "r1", "r2", "r3", "r4", "r5", "other"}


@pytest.mark.parametrize("order", [None, ["metrics.m1 DESC"], ["params.only0"], ["params.p1"]])
def test_keyset_pages_cover_every_run_once(populated: SqlStore, order: list[str] | None) -> None:
    expected = ids(populated, order=order)
    seen: list[str] = []
    token: str | None = None
    while True:
        page = populated.search_runs(
            ["e1"], None, parse_order_by(order), max_results=4 if order else 1, page_token=token
        )
        seen.extend(r.id for r in page.runs)
        token = page.next_page_token
        if token is None:
            break
    assert seen == expected


def test_results_carry_params_metrics_and_tags(populated: SqlStore) -> None:
    (r3,) = populated.search_runs(["e1"], parse_filter("run_id = 'r3'")).runs
    assert r3.params == {"p1": "a", "p2": "3"}
    assert r3.metrics == {"m1": 0.3, "m2": 0.7}
    assert r3.tags == {"team": "Blue"}


def test_bad_page_token_and_max_results(populated: SqlStore) -> None:
    with pytest.raises(InvalidInputError, match="page_token"):
        populated.search_runs(["e1"], page_token="not-a-token")
    with pytest.raises(InvalidInputError, match="max_results"):
        populated.search_runs(["e1"], max_results=0)


def test_search_results_equal_the_runs_get_returns(populated: SqlStore) -> None:
    """Search builds its runs in bulk (no frozen-dataclass __init__); each must be the very
    Run that ``get`` builds, field for field, NaN metric and ended runs included."""
    page = populated.search_runs(["e1"], max_results=10)
    assert len(page.runs) == 6
    for found in page.runs:
        got = populated.runs.get(found.id)
        assert repr(found) == repr(got)  # NaN != NaN, so compare the spelled-out fields
        assert vars(found) == vars(got) or math.isnan(found.metrics.get("nanm", 0.0))
        assert type(found.status) is RunStatus
        assert type(found.lifecycle_stage) is LifecycleStage


def test_runs_from_tuples_equals_the_constructor() -> None:
    from mlcycle.entities import Run
    from mlcycle.store.sql.runs import runs_from_tuples

    raw = '{"p":{"a":"1"},"m":{"m":0.5},"t":{"t":"x"},"x":{"bad":"-Infinity"}}'
    (built,) = runs_from_tuples(
        [("id1", "e1", "n", "FINISHED", 1, 2, "p", "d", "err", "deleted", 3, raw, "k0")]
    )
    assert built == Run(
        id="id1",
        experiment_id="e1",
        name="n",
        status=RunStatus.FINISHED,
        start_time=1,
        end_time=2,
        parent_id="p",
        description="d",
        error="err",
        lifecycle_stage=LifecycleStage.DELETED,
        deleted_at=3,
        params={"a": "1"},
        metrics={"m": 0.5, "bad": -math.inf},
        tags={"t": "x"},
    )
    (empty,) = runs_from_tuples(
        [("id2", "e1", "n", "RUNNING", 1, None, None, None, None, "active", None, "{}")]
    )
    assert (empty.params, empty.metrics, empty.tags) == ({}, {}, {})


def test_a_reused_first_page_query_takes_each_calls_experiments(populated: SqlStore) -> None:
    """The first page's SELECT is built once per filter and order; the experiment IDs
    are a parameter, so the same search over another experiment finds that one's runs."""
    where = parse_filter("name LIKE '%'")
    first = populated.search_runs(["e1"], where).runs
    second = populated.search_runs(["e2"], where).runs
    both = populated.search_runs(["e1", "e2"], where).runs
    assert {r.experiment_id for r in first} == {"e1"}
    assert [r.id for r in second] == ["other"]
    assert len(both) == len(first) + 1


@pytest.mark.parametrize(
    ("expr", "order"),
    [
        (None, None),
        ("metrics.m1 > 0.25 and params.p1 != 'c'", ["metrics.m2 DESC"]),
        ("tags.team ILIKE 'b%' OR params.only0 IS NOT NULL", ["params.p1", "start_time"]),
        ("params.p1 IN ('a', 'b')", ["metrics.nanm DESC"]),
        ("name LIKE 'run-%'", ["duration DESC"]),
    ],
)
def test_sqlite_first_pages_read_by_the_driver_equal_sqlalchemys(
    populated: SqlStore, expr: str | None, order: list[str] | None
) -> None:
    """On SQLite a first page is read through the driver's connection (no SQLAlchemy
    rows); its runs and next-page token equal those of the same query run by SQLAlchemy."""
    from mlcycle.store.sql.search import _plain_sql, page_of, search_query

    db = populated.db
    if db.dialect != "sqlite":
        pytest.skip("the driver's path is SQLite's")
    where, orders = parse_filter(expr), parse_order_by(order)
    for experiments, size in ((["e1"], 2), (["e1", "e2"], 1000)):
        query, params = search_query(experiments, where, orders, size)
        plain = _plain_sql(query, len(experiments), db.engine.dialect)
        assert plain is not None
        with db.read() as conn:
            driver = plain.run(conn, experiments)
            through_sqlalchemy = conn.execute(query, params).all()
        assert [tuple(r) for r in through_sqlalchemy] == driver
        mine = populated.search_runs(experiments, where, orders, size)
        assert repr(mine) == repr(page_of(through_sqlalchemy, size))  # repr: NaN metrics
