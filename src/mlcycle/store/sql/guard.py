"""Every value bound into a statement is checked against :mod:`mlcycle.bounds` before the
database sees it, so SQLite and PostgreSQL accept exactly the same data and refuse the rest
with one :class:`~mlcycle.errors.InvalidInputError` naming the column and the rule.

Without it, PostgreSQL refuses NUL characters, integers past a column's width and text past
a ``VARCHAR(n)`` (as errors the engine would report as "store unavailable"), while SQLite
stores the NULs and the long text and raises ``OverflowError`` past 64 bits. The checks use
the type of each bound parameter (its column's, for inserts, updates and comparisons):

- an integer must fit its column (``Integer`` 32 bits, ``BigInteger`` and the rest 64);
- text must hold no NUL, and must fit a ``String(n)`` it is written to;
- one statement binds at most :data:`~mlcycle.bounds.MAX_BOUND_VALUES` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import BigInteger, Engine, Integer, SmallInteger, String, event
from sqlalchemy.engine import Connection, ExecutionContext
from sqlalchemy.sql.compiler import Compiled

from mlcycle.bounds import MAX_BOUND_VALUES, check_count, check_int, check_text

_SUFFIX = re.compile(r"_\d+$")


def install(engine: Engine) -> None:
    """Check the bound values of every statement ``engine`` runs."""
    event.listen(engine, "before_cursor_execute", _before_execute)


def _before_execute(
    conn: Connection,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: ExecutionContext | None,
    executemany: bool,
) -> None:
    compiled: Compiled | None = getattr(context, "compiled", None)
    sets: list[Mapping[str, Any]] | None = getattr(context, "compiled_parameters", None)
    if context is None or compiled is None or not sets:
        return
    writing = bool(context.isinsert or context.isupdate)
    binds: Mapping[str, Any] = getattr(compiled, "binds", {})
    for values in sets:
        count = 0
        for name, value in values.items():
            count += check_value(name, value, binds.get(name), writing=writing)
        check_count(count, MAX_BOUND_VALUES, field="request", what="values")


def check_value(name: str, value: object, bind: Any, *, writing: bool) -> int:
    """Check one bound value (a list for an expanding IN); return how many values it holds."""
    if isinstance(value, (list, tuple)):
        return sum(check_value(name, item, bind, writing=writing) for item in _flat(value))
    if value is None or isinstance(value, (bool, float, bytes)):
        return 1
    field = _SUFFIX.sub("", name)
    kind = getattr(bind, "type", None)
    if isinstance(value, int):
        bits = 64
        if isinstance(kind, Integer) and not isinstance(kind, BigInteger):
            bits = 16 if isinstance(kind, SmallInteger) else 32
        check_int(value, field=field, bits=bits)
    elif isinstance(value, str):
        length = kind.length if writing and isinstance(kind, String) else None
        check_text(value, field=field, max_length=length)
    return 1


def _flat(items: Iterable[Any]) -> Iterable[Any]:
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item
