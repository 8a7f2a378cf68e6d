"""Engines for SQLite and PostgreSQL, and the transaction helpers every repository uses.

SQLite runs in WAL mode with a long busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE``: a deferred transaction that later needs to write can fail at once with
"database is locked" when another process writes, while an immediate one waits its turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.pool import ConnectionPoolEntry

from mlcycle.errors import InvalidInputError, StoreError
from mlcycle.store.sql import guard

_READ_OPTION = "mlcycle_read_only"
BUSY_TIMEOUT_S = 120.0


def make_engine(url: str) -> Engine:
    """Create an engine for a ``sqlite:///`` or ``postgresql+psycopg://`` URL (no I/O yet)."""
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url)
    elif url.startswith("postgresql"):
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    else:
        raise StoreError(f"unsupported store URL {url!r}: use sqlite:/// or postgresql+psycopg://")
    guard.install(engine)
    return engine


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=5,
        max_overflow=10,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module; the "begin" hook below
        # issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe against process crashes in WAL
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA case_sensitive_like=ON")  # LIKE as in PostgreSQL and MLflow
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class Database:
    """An engine plus the two ways repositories talk to it: a read and a write transaction.

    Transactions nest: a ``write()`` or ``read()`` opened inside a ``write()`` of the same
    thread (or task) joins it, so several repository calls made inside one
    ``with db.write():`` block commit together or not at all (an MLflow ``log-batch``: its
    params, tags and metrics).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open: ContextVar[Connection | None] = ContextVar(
            f"mlcycle_write_{id(self)}", default=None
        )
        #: whether this process has checked the planner statistics (see store.sql.search)
        self.statistics_checked = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        Inside another ``write()`` block, the outer transaction is used (and committed by
        the outer block)."""
        joined = self._open.get()
        if joined is not None:
            yield joined
            return
        try:
            with self.engine.connect() as conn, conn.begin():
                token = self._open.set(conn)
                try:
                    yield conn
                finally:
                    self._open.reset(token)
        except DBAPIError as exc:
            if not _is_operational(exc):
                raise
            if _is_bad_input(exc):
                raise InvalidInputError(f"the store refused a value: {_reason(exc)}") from exc
            raise StoreError(f"the store could not complete a write: {_reason(exc)}") from exc
        except OverflowError as exc:
            raise InvalidInputError(f"the store refused a value: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (never takes SQLite's write lock); inside a ``write()``
        block, the write transaction (which sees its own changes)."""
        joined = self._open.get()
        if joined is not None:
            yield joined
            return
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_READ_OPTION: True})
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            if not _is_operational(exc):
                raise
            if _is_bad_input(exc):
                raise InvalidInputError(f"the store refused a value: {_reason(exc)}") from exc
            raise StoreError(f"the store could not be read: {_reason(exc)}") from exc
        except OverflowError as exc:
            raise InvalidInputError(f"the store refused a value: {exc}") from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _is_operational(exc: DBAPIError) -> bool:
    """Errors of the database itself (locked, unreachable, not a database), as opposed to
    constraint violations, which the repositories translate."""
    return not isinstance(exc, IntegrityError)


#: SQLite's messages for a statement too large or a value it cannot take: bad input, not
#: a store that is unavailable.
_SQLITE_BAD_INPUT = (
    "expression tree is too large",
    "too many sql variables",
    "too many terms",
    "string or blob too big",
    "parser stack overflow",
)


def _is_bad_input(exc: DBAPIError) -> bool:
    """A database error caused by the request's data, which a retry cannot fix.

    PostgreSQL says so with SQLSTATE class 22 (data exception: out of range, NUL character,
    too long) or 54 (program limit exceeded: too complex); SQLite with its messages.
    :mod:`mlcycle.store.sql.guard` refuses such values before they are sent; this is the net
    behind it. Everything else (locked, unreachable, disk full) is the store's failure: 503.
    """
    if isinstance(exc, DataError):
        return True
    state = getattr(exc.orig, "sqlstate", None)
    if isinstance(state, str) and state[:2] in ("22", "54"):
        return True
    return any(marker in _reason(exc).lower() for marker in _SQLITE_BAD_INPUT)


def _reason(exc: DBAPIError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
