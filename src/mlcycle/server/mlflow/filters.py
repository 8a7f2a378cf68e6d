"""MLflow's filter strings for experiments, registered models, model versions and logged
models: parsed by mlcycle's search parser (:mod:`mlcycle.search.parser`) in a dialect per
kind of record, then evaluated on the records in Python (those lists are small; run search
compiles to SQL instead). Both APIs therefore accept and reject the same filters, with the
same messages: ``field op value`` joined by AND (and OR, NOT, parentheses), ``op`` one of
``= != < <= > >= LIKE ILIKE``, ``[NOT] IN (...)``, ``IS [NOT] NULL``; fields are the
dialect's attributes (``name``, ``attributes.name``) or ``tags.<key>``, ``params.<key>``,
``metrics.<key>`` where the dialect has them, keys quoted with backticks when needed.

>>> experiments = dialect({"name"}, numeric={"creation_time"})
>>> found = parse("name LIKE 'churn%' AND creation_time > 0", experiments)
>>> holds(found, {"name": "churn-2", "creation_time": 5})
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from mlcycle.search import Dialect, parse_filter
from mlcycle.search.filters import And, Comparison, Entity, Field, Filter, Not, Op, Or
from mlcycle.server.mlflow.protocol import MlflowError

T = TypeVar("T")


def dialect(
    attributes: Collection[str],
    *,
    numeric: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
    entities: Collection[Entity] = (Entity.TAG,),
) -> Dialect:
    """A dialect over ``attributes`` (and their ``aliases``), ``numeric`` ones compared as
    numbers, with the prefixed fields of ``entities``."""
    names = {name: name for name in attributes}
    names.update(aliases or {})
    return Dialect(attributes=names, numeric=frozenset(numeric), entities=frozenset(entities))


def parse(text: str | None, kind: Dialect) -> Filter | None:
    """The filter of a request (None when blank); a bad filter raises FilterSyntaxError,
    which MLflow's routes answer as INVALID_PARAMETER_VALUE."""
    return parse_filter(text, kind)


def name_of(field: Field) -> str:
    """The key of a field among a record's values: ``name``, ``tags.<key>``, ..."""
    if field.entity is Entity.ATTRIBUTE:
        return str(field.key)
    return f"{field.entity.value}.{field.key}"


def equal_values(found: Filter | None, attribute: str) -> list[Any]:
    """The values ``attribute = value`` must take for the filter to hold (its top-level
    AND terms), to narrow what is read before filtering."""
    terms = found.items if isinstance(found, And) else (found,) if found is not None else ()
    return [
        t.value
        for t in terms
        if isinstance(t, Comparison)
        and t.op is Op.EQ
        and t.field.entity is Entity.ATTRIBUTE
        and t.field.key == attribute
    ]


def _like(pattern: str, value: str, *, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def _compare(op: Op, actual: Any, expected: Any) -> bool:
    if isinstance(expected, int | float) and not isinstance(actual, int | float):
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            return False
    elif isinstance(expected, str) and not isinstance(actual, str):
        actual = str(actual)
    try:
        return _ordered(op, actual, expected)
    except TypeError:
        return False


def _ordered(op: Op, actual: Any, expected: Any) -> bool:
    if op is Op.EQ:
        return bool(actual == expected)
    if op is Op.NE:
        return bool(actual != expected)
    if op is Op.LT:
        return bool(actual < expected)
    if op is Op.LE:
        return bool(actual <= expected)
    if op is Op.GT:
        return bool(actual > expected)
    return bool(actual >= expected)


def _holds(c: Comparison, record: Mapping[str, Any], missing_tag_differs: bool) -> bool:
    actual = record.get(name_of(c.field))
    if c.op is Op.IS_NULL:
        return actual is None
    if c.op is Op.IS_NOT_NULL:
        return actual is not None
    if actual is None:
        # In MLflow's registry search (whose client adds "tags.`mlflow.prompt.is_prompt`
        # != 'true'" to every model search) an object without the tag is not equal to it;
        # elsewhere a missing field matches no comparison.
        return missing_tag_differs and c.op in (Op.NE, Op.NOT_IN) and c.field.entity is Entity.TAG
    if c.op in (Op.LIKE, Op.ILIKE):
        return _like(str(c.value), str(actual), ignore_case=c.op is Op.ILIKE)
    if c.op in (Op.IN, Op.NOT_IN):
        values = c.value if isinstance(c.value, tuple) else ()
        inside = any(_compare(Op.EQ, actual, v) for v in values)
        return inside if c.op is Op.IN else not inside
    return _compare(c.op, actual, c.value)


def holds(
    found: Filter | None, record: Mapping[str, Any], *, missing_tag_differs: bool = False
) -> bool:
    """Whether a record (its values by field name) passes the filter; with
    ``missing_tag_differs`` a record without a tag passes ``tags.k != v``."""
    if found is None:
        return True
    if isinstance(found, Comparison):
        return _holds(found, record, missing_tag_differs)
    if isinstance(found, And):
        return all(holds(i, record, missing_tag_differs=missing_tag_differs) for i in found.items)
    if isinstance(found, Or):
        return any(holds(i, record, missing_tag_differs=missing_tag_differs) for i in found.items)
    assert isinstance(found, Not)
    return not holds(found.item, record, missing_tag_differs=missing_tag_differs)


def select(
    records: Sequence[T],
    found: Filter | None,
    fields: Callable[[T], Mapping[str, Any]],
    *,
    missing_tag_differs: bool = False,
) -> list[T]:
    """The records that pass the filter; ``fields`` gives a record's values."""
    if found is None:
        return list(records)
    return [r for r in records if holds(found, fields(r), missing_tag_differs=missing_tag_differs)]


def order_key(value: Any) -> tuple[int, Any]:
    """A sort key that puts missing values last and compares numbers with numbers."""
    if value is None:
        return (2, 0)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value))


def order_by(clauses: Sequence[str], *, allowed: Collection[str]) -> list[tuple[str, bool]]:
    """``["name DESC", ...]`` as (field, descending) pairs; fields must be in ``allowed``
    (the field is read by the search parser's rules, so ``tags.`a b``` works)."""
    kind = dialect(
        [a for a in allowed if "." not in a],
        entities=(Entity.TAG, Entity.PARAM, Entity.METRIC),
    )
    out: list[tuple[str, bool]] = []
    for clause in clauses:
        words = clause.rsplit(None, 1)
        descending = len(words) == 2 and words[1].upper() == "DESC"
        if len(words) < 2 or words[1].upper() not in ("ASC", "DESC"):
            words = [clause.strip()]
        term = parse_filter(f"{words[0]} IS NULL", kind) if words[0] else None
        if not isinstance(term, Comparison):
            raise MlflowError(f"Invalid order_by clause '{clause}'")
        field = name_of(term.field)
        if field not in allowed:
            raise MlflowError(
                f"Invalid order_by clause '{clause}': order by one of {', '.join(sorted(allowed))}"
            )
        out.append((field, descending))
    return out


def _sort_key(value: Callable[[Any, str], Any], field: str, record: Any) -> tuple[int, Any]:
    return order_key(value(record, field))


def sort_by(
    records: Sequence[T], value: Callable[[T, str], Any], orders: Sequence[tuple[str, bool]]
) -> list[T]:
    """``records`` sorted by each (field, descending) in turn, the first one winning;
    ``value`` gives a record's value of a field."""
    out = list(records)
    for field, descending in reversed(orders):
        out.sort(key=partial(_sort_key, value, field), reverse=descending)
    return out


__all__ = ["dialect", "equal_values", "holds", "order_by", "parse", "select", "sort_by"]
