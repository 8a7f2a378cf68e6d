"""Compile typed run filters (``mlcycle.search``) into one SQL query, with keyset paging.

Each param, tag or metric the filter or ordering names becomes one LEFT OUTER JOIN on the
table's (run_id, key) primary key; metrics join ``latest_metrics``, so a filter on a metric
compares its latest value. A run that lacks the field never matches a comparison (SQL NULL),
only ``IS NULL``. Ordering puts runs without a value last in both directions, then breaks
ties by run ID so that paging is stable.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    false,
    literal,
    not_,
    or_,
    select,
    text,
)

from mlcycle.bounds import MAX_IDS, check_count
from mlcycle.entities import LifecycleStage, RunPage
from mlcycle.errors import InvalidInputError, StoreError
from mlcycle.search import And, Attribute, Comparison, Entity, Field, Filter, Not, Op, Or, OrderBy
from mlcycle.store.sql.engine import Database
from mlcycle.store.sql.runs import RUN_COLUMNS, runs_from_tuples
from mlcycle.store.sql.schema import LATEST_METRICS, PARAMS, RUNS, TAGS

MAX_RESULTS = 50_000
_IDS = "experiment_ids"
DEFAULT_ORDER = (OrderBy(Field(Entity.ATTRIBUTE, Attribute.START_TIME.value), descending=True),)


class _Compiler:
    """Turns fields into column expressions, adding one join per distinct field."""

    def __init__(self) -> None:
        self.joins: dict[tuple[Entity, str], Any] = {}

    def column(self, field: Field) -> ColumnElement[Any]:
        if field.entity is Entity.TAG and field.key == "mlflow.runName":
            return RUNS.c.name  # MLflow keeps the run name in this tag; we keep it as `name`
        if field.entity is Entity.ATTRIBUTE:
            return self._attribute(field.key)
        return self._alias(field).c.value  # type: ignore[no-any-return]

    def present(self, field: Field) -> ColumnElement[bool]:
        """True where the run has the field at all (NaN metrics count as present)."""
        if field.entity is Entity.ATTRIBUTE or (
            field.entity is Entity.TAG and field.key == "mlflow.runName"
        ):
            return self.column(field).is_not(None)
        return self._alias(field).c.run_id.is_not(None)  # type: ignore[no-any-return]

    def _alias(self, field: Field) -> Any:
        ref = (field.entity, field.key)
        if ref not in self.joins:
            table = {Entity.PARAM: PARAMS, Entity.METRIC: LATEST_METRICS, Entity.TAG: TAGS}[
                field.entity
            ]
            self.joins[ref] = table.alias(f"j{len(self.joins)}")
        return self.joins[ref]

    @staticmethod
    def _attribute(key: str) -> ColumnElement[Any]:
        attr = Attribute(key)
        if attr is Attribute.DURATION:
            return RUNS.c.end_time - RUNS.c.start_time
        column = {
            Attribute.RUN_ID: RUNS.c.id,
            Attribute.NAME: RUNS.c.name,
            Attribute.STATUS: RUNS.c.status,
            Attribute.START_TIME: RUNS.c.start_time,
            Attribute.END_TIME: RUNS.c.end_time,
        }[attr]
        return column

    def condition(self, node: Filter) -> ColumnElement[bool]:
        if isinstance(node, And):
            return and_(*(self.condition(i) for i in node.items))
        if isinstance(node, Or):
            return or_(*(self.condition(i) for i in node.items))
        if isinstance(node, Not):
            return not_(self.condition(node.item))
        return self._comparison(node)

    def _comparison(self, c: Comparison) -> ColumnElement[bool]:
        if c.op is Op.IS_NULL:
            return not_(self.present(c.field))
        if c.op is Op.IS_NOT_NULL:
            return self.present(c.field)
        col = self.column(c.field)
        value = c.value
        if c.op in (Op.IN, Op.NOT_IN):
            items = list(value) if isinstance(value, tuple) else [value]
            return col.in_(items) if c.op is Op.IN else and_(col.is_not(None), col.not_in(items))
        ops = {
            Op.EQ: col.__eq__,
            Op.NE: col.__ne__,
            Op.LT: col.__lt__,
            Op.LE: col.__le__,
            Op.GT: col.__gt__,
            Op.GE: col.__ge__,
            Op.LIKE: col.like,
            Op.ILIKE: col.ilike,
        }
        return ops[c.op](value)


def _encode_token(values: Sequence[object]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode()


def _decode_token(token: str, width: int) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidInputError(
            "page_token is not a token this search returned", field="page_token"
        ) from exc
    if not isinstance(values, list) or len(values) != width:
        raise InvalidInputError(
            "page_token does not belong to this search (filter or order changed)",
            field="page_token",
        )
    return values


def _after(
    keys: Sequence[tuple[ColumnElement[Any], bool]], token: Sequence[Any]
) -> ColumnElement[bool]:
    """Rows strictly after ``token`` in the order of ``keys`` (expression, descending).

    Each key is really two sort components: "is NULL" (nulls last) and the value.
    """
    clauses: list[ColumnElement[bool]] = []
    equal_so_far: list[ColumnElement[bool]] = []
    for (expr, descending), value in zip(keys, token, strict=True):
        if value is None:
            # Token is in the NULL block of this key: later rows are NULL too; go deeper.
            equal_so_far.append(expr.is_(None))
            continue
        beyond = expr < value if descending else expr > value
        clauses.append(and_(*equal_so_far, or_(expr.is_(None), beyond)))
        equal_so_far.append(expr == value)
    return or_(*clauses) if clauses else false()


def _ordering(keys: Sequence[tuple[ColumnElement[Any], bool]]) -> list[Any]:
    """ORDER BY terms: per key, missing values last, then the value in its direction."""
    terms: list[Any] = []
    for expr, descending in keys:
        terms.append(case((expr.is_(None), 1), else_=0))
        terms.append(expr.desc() if descending else expr.asc())
    return terms


def _maybe_analyze(db: Database) -> None:
    """Give SQLite's planner table statistics once per store and process when they are
    missing or stale (the run count moved by more than half since they were taken).

    Without them SQLite may drive a search from the metric index instead of the far more
    selective param index: 3x slower at 100,000 runs. PostgreSQL's autovacuum does this.
    """
    if db.dialect != "sqlite" or db.statistics_checked:
        return
    db.statistics_checked = True
    with db.read() as conn:
        runs = conn.execute(text("SELECT count(*) FROM runs")).scalar_one()
        has_stats = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).scalar_one()
        stat = (
            conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'runs' LIMIT 1")).scalar()
            if has_stats
            else None
        )
    seen = int(str(stat).split()[0]) if stat else 0
    if runs >= 1000 and not (0.5 * runs <= seen <= 2 * runs):
        with db.write() as conn:
            conn.execute(text("PRAGMA analysis_limit=1000"))
            conn.execute(text("ANALYZE"))


def search_query(
    experiment_ids: Sequence[str],
    filter: Filter | None = None,
    order_by: Sequence[OrderBy] = (),
    max_results: int = 1000,
    page_token: str | None = None,
    stages: Sequence[LifecycleStage] = (LifecycleStage.ACTIVE,),
) -> tuple[Select[Any], dict[str, Any]]:
    """The one SELECT behind :func:`search_runs` and its parameters: rows of
    :data:`RUN_COLUMNS` followed by the sort keys (for the next page's token), at most
    ``max_results + 1`` of them.

    The first page of a search is built once per filter, order and page size and reused
    (the experiment IDs are a parameter), since building it costs about as much as running
    it on a few thousand runs.

    Example (the SQL a benchmark runs raw, as the floor of a search)::

        query, params = search_query(["0123"], parse_filter("params.p1 = 'a'"))
        sql = str(query.params(params).compile(engine, compile_kwargs={"literal_binds": True}))
    """
    if not 1 <= max_results <= MAX_RESULTS:
        raise InvalidInputError(
            f"max_results must be between 1 and {MAX_RESULTS}, got {max_results}",
            field="max_results",
        )
    check_count(len(experiment_ids), MAX_IDS, field="experiment_ids", what="experiment IDs")
    params = {_IDS: list(experiment_ids)}
    orders = tuple(order_by or DEFAULT_ORDER)
    stage_values = tuple(s.value for s in stages)
    if page_token:
        return _build(filter, orders, stage_values, max_results, page_token), params
    # repr() tells 1 from 1.0 and True, which compare (and hash) equal
    key = (repr(filter), repr(orders))
    if not _hashable(filter):  # a value the parser did not make (a list, say): not cached
        return _build(filter, orders, stage_values, max_results, None), params
    return _first_page(key, filter, orders, stage_values, max_results), params


@lru_cache(maxsize=256)
def _first_page(
    key: tuple[str, str],
    filter: Filter | None,
    orders: tuple[OrderBy, ...],
    stages: tuple[str, ...],
    max_results: int,
) -> Select[Any]:
    return _build(filter, orders, stages, max_results, None)


def _build(
    filter: Filter | None,
    orders: tuple[OrderBy, ...],
    stages: tuple[str, ...],
    max_results: int,
    page_token: str | None,
) -> Select[Any]:
    compiler = _Compiler()
    where: list[ColumnElement[bool]] = [
        RUNS.c.experiment_id.in_(bindparam(_IDS, expanding=True)),
        RUNS.c.lifecycle_stage.in_(list(stages)),
    ]
    if filter is not None:
        where.append(compiler.condition(filter))
    keys = [(compiler.column(o.field), o.descending) for o in orders]
    keys.append((RUNS.c.id, False))
    if page_token:
        where.append(_after(keys, _decode_token(page_token, len(keys))))
    # The page is chosen over (run ID, sort keys) only; whole rows, with their summary JSON,
    # are joined to the at most max_results + 1 winners, so the sorter moves small records.
    page: Select[Any] = select(
        RUNS.c.id.label("page_id"), *(k.label(f"k{i}") for i, (k, _) in enumerate(keys))
    )
    for (_entity, key), alias in compiler.joins.items():
        page = page.outerjoin(alias, and_(alias.c.run_id == RUNS.c.id, alias.c.key == literal(key)))
    chosen = page.where(*where).order_by(*_ordering(keys)).limit(max_results + 1).subquery("page")
    labelled = [(chosen.c[f"k{i}"], d) for i, (_, d) in enumerate(keys)]
    return (
        select(*RUN_COLUMNS, *(c for c, _ in labelled))
        .join(chosen, chosen.c.page_id == RUNS.c.id)
        .order_by(*_ordering(labelled))
    )


def search_runs(
    db: Database,
    experiment_ids: Sequence[str],
    filter: Filter | None = None,
    order_by: Sequence[OrderBy] = (),
    max_results: int = 1000,
    page_token: str | None = None,
    stages: Sequence[LifecycleStage] = (LifecycleStage.ACTIVE,),
) -> RunPage:
    """One page of runs of the given experiments that match ``filter``."""
    query, params = search_query(experiment_ids, filter, order_by, max_results, page_token, stages)
    plain = None
    if db.dialect == "sqlite" and page_token is None and _hashable(filter):
        plain = _plain_sql(query, len(params[_IDS]), db.engine.dialect)
    with db.read() as conn:
        if plain is not None:
            rows: Sequence[Sequence[Any]] = plain.run(conn, params[_IDS])
        else:
            rows = conn.execute(query, params).all()
    _maybe_analyze(db)
    return page_of(rows, max_results)


def _hashable(filter: Filter | None) -> bool:
    """Whether ``search_query`` reuses the first page's query for ``filter`` (a filter
    holding a value the parser did not make, a list say, is built anew each time)."""
    try:
        hash(filter)
    except TypeError:
        return False
    return True


class _PlainSql:
    """A first-page search compiled once to SQLite's SQL, run on the driver's connection.

    SQLAlchemy's result machinery (a ``Row`` per row, its per-execution bookkeeping) cost
    about 1.3 ms of a 5,000-run search's 11 ms; the runs table's columns need no type
    conversion on SQLite, so the driver's tuples are the same values (a test compares the
    two paths). Built only when no bound value or result column needs a processor."""

    def __init__(self, sql: str, slots: list[int | None], constants: list[Any]) -> None:
        self.sql = sql
        self.slots = slots  # per placeholder: the experiment ID's index, or None
        self.constants = constants

    def run(self, conn: Any, experiment_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        values = [
            c if slot is None else experiment_ids[slot]
            for slot, c in zip(self.slots, self.constants, strict=True)
        ]
        try:
            cursor = conn.connection.driver_connection.execute(self.sql, values)
            return cursor.fetchall()  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc


@lru_cache(maxsize=256)
def _plain_sql(query: Select[Any], ids: int, dialect: Any) -> _PlainSql | None:
    if ids == 0:
        return None
    names = [f"{_IDS}_{i + 1}" for i in range(ids)]
    compiled = query.compile(dialect=dialect)
    state = compiled.construct_expanded_state({_IDS: names})
    if state.positiontup is None or state.processors:
        return None
    if any(c[3]._cached_result_processor(dialect, None) for c in compiled._result_columns):
        return None
    slots: list[int | None] = []
    constants: list[Any] = []
    for name in state.positiontup:
        value = state.parameters[name]
        if name.startswith(f"{_IDS}_") and value in names:
            slots.append(names.index(value))
            constants.append(None)
        else:
            slots.append(None)
            constants.append(value)
    if sorted(s for s in slots if s is not None) != list(range(ids)):
        return None
    return _PlainSql(state.statement, slots, constants)


def page_of(rows: Sequence[Sequence[Any]], max_results: int) -> RunPage:
    """The page made of the rows :func:`search_query` selected: the first ``max_results``
    as runs, and a token for the next page when there was one more row."""
    runs = runs_from_tuples(rows[:max_results])
    token = None
    if len(rows) > max_results:
        token = _encode_token(list(rows[max_results - 1][len(RUN_COLUMNS) :]))
    return RunPage(runs=runs, next_page_token=token)
