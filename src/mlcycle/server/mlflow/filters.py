"""MLflow's filter strings for experiments, registered models, model versions and logged
models: comparisons joined by AND, evaluated on records in Python (those lists are small;
run search compiles to SQL through :mod:`mlcycle.search` instead).

Grammar: ``field op value [AND field op value ...]`` where ``op`` is one of ``= != < <= > >=
LIKE ILIKE``, or ``field [NOT] IN ('a', 'b')``, or ``field IS [NOT] NULL``; fields are
attributes (``name``, ``attributes.name``) or ``tags.<key>``, ``params.<key>``,
``metrics.<key>``, keys quoted with backticks or double quotes when needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from mlcycle.server.mlflow.protocol import MlflowError

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    |(?P<op><=|>=|!=|<>|==|=|<|>)
    |(?P<punct>[(),])
    |(?P<word>(?:[A-Za-z_][\w]*\.)?(?:`[^`]*`|"[^"]*"|[^\s=!<>(),'"]+))
    )""",
    re.VERBOSE,
)
_PREFIXES = {
    "tag": "tags",
    "tags": "tags",
    "param": "params",
    "params": "params",
    "metric": "metrics",
    "metrics": "metrics",
    "attribute": "",
    "attributes": "",
    "attr": "",
}
T = TypeVar("T")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Condition:
    field: str  # "name", "tags.<key>", "params.<key>", "metrics.<key>"
    op: str
    value: Any = None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        quote = text[0]
        body = text[1:-1]
        return body.replace(quote * 2, quote).replace("\\" + quote, quote)
    return text


def _field(word: str) -> str:
    prefix, dot, key = word.partition(".")
    if dot and prefix.lower() in _PREFIXES:
        entity = _PREFIXES[prefix.lower()]
        key = _unquote(key)
        return f"{entity}.{key}" if entity else key
    return _unquote(word)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise MlflowError(f"Invalid filter '{text}': cannot parse at position {pos}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _value(kind: str, text: str) -> Any:
    if kind == "string":
        return _unquote(text)
    if kind == "word" and _NUMBER.match(text):
        return float(text) if any(c in text for c in ".eE") else int(text)
    raise MlflowError(f"Invalid filter value {text!r}: a quoted string or a number is expected")


def parse(text: str | None) -> list[Condition]:
    """The conditions of a filter string (all must hold); blank means none."""
    if text is None or not text.strip():
        return []
    tokens = _tokens(text)
    conditions: list[Condition] = []
    i = 0

    def at(n: int) -> tuple[str, str]:
        return tokens[n] if n < len(tokens) else ("end", "")

    while True:
        kind, word = at(i)
        if kind != "word":
            raise MlflowError(f"Invalid filter '{text}': a field is expected, got {word!r}")
        field = _field(word)
        kind, op = at(i + 1)
        upper = op.upper()
        if kind == "op":
            value_kind, value_text = at(i + 2)
            normal = {"==": "=", "<>": "!="}.get(op, op)
            conditions.append(Condition(field, normal, _value(value_kind, value_text)))
            i += 3
        elif kind == "word" and upper in ("LIKE", "ILIKE"):
            value_kind, value_text = at(i + 2)
            if value_kind != "string":
                raise MlflowError(f"Invalid filter '{text}': {upper} needs a quoted pattern")
            conditions.append(Condition(field, upper, _unquote(value_text)))
            i += 3
        elif kind == "word" and upper in ("IN", "NOT"):
            negate = upper == "NOT"
            j = i + 1
            if negate:
                if at(i + 2)[1].upper() != "IN":
                    raise MlflowError(f"Invalid filter '{text}': NOT must be followed by IN")
                j = i + 2
            if at(j + 1)[1] != "(":
                raise MlflowError(f"Invalid filter '{text}': IN needs a list in parentheses")
            j += 2
            values: list[Any] = []
            while True:
                value_kind, value_text = at(j)
                values.append(_value(value_kind, value_text))
                sep = at(j + 1)[1]
                j += 2
                if sep == ")":
                    break
                if sep != ",":
                    raise MlflowError(f"Invalid filter '{text}': ',' or ')' expected in IN list")
            conditions.append(Condition(field, "NOT IN" if negate else "IN", tuple(values)))
            i = j
        elif kind == "word" and upper == "IS":
            negate = at(i + 2)[1].upper() == "NOT"
            null_at = i + 3 if negate else i + 2
            if at(null_at)[1].upper() != "NULL":
                raise MlflowError(f"Invalid filter '{text}': IS must be followed by [NOT] NULL")
            conditions.append(Condition(field, "IS NOT NULL" if negate else "IS NULL"))
            i = null_at + 1
        else:
            raise MlflowError(f"Invalid filter '{text}': an operator is expected after {word!r}")
        kind, word = at(i)
        if kind == "end":
            return conditions
        if word.upper() != "AND":
            raise MlflowError(
                f"Invalid filter '{text}': only AND joins conditions here, got {word!r}"
            )
        i += 1


def _like(pattern: str, value: str, *, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def _compare(op: str, actual: Any, expected: Any) -> bool:
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


def _ordered(op: str, actual: Any, expected: Any) -> bool:
    if op == "=":
        return bool(actual == expected)
    if op == "!=":
        return bool(actual != expected)
    if op == "<":
        return bool(actual < expected)
    if op == "<=":
        return bool(actual <= expected)
    if op == ">":
        return bool(actual > expected)
    return bool(actual >= expected)


def holds(condition: Condition, record: Mapping[str, Any]) -> bool:
    actual = record.get(condition.field)
    op = condition.op
    if op == "IS NULL":
        return actual is None
    if op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        # As in MLflow's registry search (whose client adds "tags.`mlflow.prompt.is_prompt`
        # != 'true'" to every model search): an object without the tag is not equal to it.
        return op in ("!=", "NOT IN") and condition.field.startswith("tags.")
    if op in ("LIKE", "ILIKE"):
        return _like(condition.value, str(actual), ignore_case=op == "ILIKE")
    if op in ("IN", "NOT IN"):
        inside = any(_compare("=", actual, v) for v in condition.value)
        return inside if op == "IN" else not inside
    return _compare(op, actual, condition.value)


def select(
    records: Sequence[Any],
    conditions: Sequence[Condition],
    fields: Callable[[Any], Mapping[str, Any]],
    *,
    allowed: Callable[[str], bool],
) -> list[Any]:
    """The records for which every condition holds; ``fields`` gives a record's values and
    ``allowed`` says which fields the filter may name."""
    for condition in conditions:
        if not allowed(condition.field):
            raise MlflowError(f"Invalid filter: unsupported field '{condition.field}'")
    if not conditions:
        return list(records)
    out = []
    for record in records:
        values = fields(record)
        if all(holds(c, values) for c in conditions):
            out.append(record)
    return out


def order_key(value: Any) -> tuple[int, Any]:
    """A sort key that puts missing values last and compares numbers with numbers."""
    if value is None:
        return (2, 0)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value))


def order_by(clauses: Sequence[str], *, allowed: Collection[str]) -> list[tuple[str, bool]]:
    """``["name DESC", ...]`` as (field, descending) pairs; fields must be in ``allowed``."""
    out: list[tuple[str, bool]] = []
    for clause in clauses:
        words = clause.split()
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if not words or len(words) > 2 or direction not in ("ASC", "DESC"):
            raise MlflowError(f"Invalid order_by clause '{clause}'")
        field = _field(words[0])
        if field not in allowed:
            raise MlflowError(
                f"Invalid order_by clause '{clause}': order by one of {', '.join(sorted(allowed))}"
            )
        out.append((field, direction == "DESC"))
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
