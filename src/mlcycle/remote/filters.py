"""Typed search filters back into the filter language, to send them to a server.

The server parses the text into the same objects again (round trip), so a caller may pass
either a string or a :class:`mlcycle.search.Filter` to ``search_runs`` remotely too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlcycle.errors import InvalidInputError
from mlcycle.search import And, Comparison, Entity, Field, Filter, Not, Op, Or, OrderBy


def _quote(text: str, mark: str) -> str:
    return mark + text.replace(mark, mark + mark) + mark


def _field(field: Field) -> str:
    prefix = "attributes" if field.entity is Entity.ATTRIBUTE else field.entity.value
    key = _quote(field.key.replace("\\", "\\\\"), "`")
    return f"{prefix}.{key}"


def _value(value: object) -> str:
    if isinstance(value, str):
        return _quote(value.replace("\\", "\\\\"), "'")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"cannot send the filter value {value!r}", field="filter")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"a filter cannot compare with {value}", field="filter")
    return repr(value)


def render_filter(item: Filter) -> str:
    """The filter language text of a typed filter."""
    if isinstance(item, Comparison):
        field = _field(item.field)
        if item.op in (Op.IS_NULL, Op.IS_NOT_NULL):
            return f"{field} {item.op.value}"
        if item.op in (Op.IN, Op.NOT_IN):
            values = item.value if isinstance(item.value, tuple) else (item.value,)
            return f"{field} {item.op.value} ({', '.join(_value(v) for v in values)})"
        return f"{field} {item.op.value} {_value(item.value)}"
    if isinstance(item, And | Or):
        word = " AND " if isinstance(item, And) else " OR "
        return word.join(f"({render_filter(i)})" for i in item.items)
    if isinstance(item, Not):
        return f"NOT ({render_filter(item.item)})"
    raise InvalidInputError(f"not a search filter: {item!r}", field="filter")


def render_order_by(items: Sequence[OrderBy] | Sequence[str] | str | None) -> list[str]:
    """Order-by clauses as text (strings are passed on as they are)."""
    if items is None:
        return []
    if isinstance(items, str):
        return [items]
    out: list[str] = []
    for item in items:
        if isinstance(item, OrderBy):
            out.append(f"{_field(item.field)} {'DESC' if item.descending else 'ASC'}")
        else:
            out.append(item)
    return out
