"""Parse the run-search filter language into :mod:`mlcycle.search.filters` objects.

Grammar (keywords are case-insensitive; NOT binds tighter than AND, AND tighter than OR)::

    filter     := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison := field op value
                | field ["NOT"] "IN" "(" value ("," value)* ")"
                | field "IS" ["NOT"] "NULL"
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE"
    value      := 'string' | "string" | number
    field      := entity "." key | attribute-name
    entity     := metrics | metric | params | param | parameter | parameters | tags | tag
                | attributes | attribute | attr | run

An unquoted key runs until whitespace, an operator character, a parenthesis, a comma or a
quote; a key with other characters is quoted right after the dot with backticks or double
(or single) quotes (``metrics.`my metric```, ``tags."mlflow.runName"``); a backquoted name
alone is an attribute name. Inside quotes a doubled quote
or a backslash escapes the quote character; ``\\\\`` is one backslash and any other
backslash is kept as written (so ``LIKE 'a\\_b'`` keeps its escape).

Values are type-checked while parsing. Metrics (as float) and the numeric attributes
start_time, end_time and duration (int when integral) take numbers and no LIKE/ILIKE;
params, tags and the attributes run_id, name and status take strings (compared as text,
so ``<`` is lexicographic). ``status`` values are upper-cased and must be a run status,
except in LIKE/ILIKE patterns, which are kept as written.

A filter nests parentheses and NOT at most 64 levels deep, holds at most 200 comparisons
and at most 1,000 IN-list values in all (:mod:`mlcycle.bounds`), and no NUL character;
beyond that it is refused with the position where the limit was passed.

MLflow's filter syntax is a subset of this language and means the same thing. One MLflow
quirk is kept on purpose: a number compared with a param or tag (``params.p1 = 1``) is
accepted and compared as the string it was written as (``"1"``, ``"1.50"``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from mlcycle.bounds import MAX_FILTER_DEPTH, MAX_FILTER_TERMS, MAX_FILTER_VALUES
from mlcycle.errors import FilterSyntaxError
from mlcycle.search.filters import (
    And,
    Attribute,
    Comparison,
    Entity,
    Field,
    Filter,
    Not,
    Op,
    Or,
    OrderBy,
    Value,
)

__all__ = ["RUNS", "Dialect", "parse_filter", "parse_order_by"]


class _Kind(Enum):
    WORD = "word"
    QFIELD = "quoted field"
    STRING = "string"
    NUMBER = "number"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    EOF = "end of input"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str  # as written in the input
    pos: int
    value: str = ""  # contents of a string, or the key of a quoted field
    prefix: str = ""  # a quoted field's entity (the text before the dot)


class _ParseError(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


_OPS = {
    "=": Op.EQ,
    "==": Op.EQ,
    "!=": Op.NE,
    "<>": Op.NE,
    "<": Op.LT,
    "<=": Op.LE,
    ">": Op.GT,
    ">=": Op.GE,
}
_OP_CHARS = frozenset("=!<>")
_QUOTES = frozenset("'\"`")
_PUNCT = {"(": _Kind.LPAREN, ")": _Kind.RPAREN, ",": _Kind.COMMA}
_WORD_END = _OP_CHARS | _QUOTES | frozenset(_PUNCT)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"})

_ENTITIES = {
    "metrics": Entity.METRIC,
    "metric": Entity.METRIC,
    "params": Entity.PARAM,
    "param": Entity.PARAM,
    "parameter": Entity.PARAM,
    "parameters": Entity.PARAM,
    "tags": Entity.TAG,
    "tag": Entity.TAG,
    "attributes": Entity.ATTRIBUTE,
    "attribute": Entity.ATTRIBUTE,
    "attr": Entity.ATTRIBUTE,
    "run": Entity.ATTRIBUTE,
}
_ATTRIBUTES = {
    "run_id": Attribute.RUN_ID,
    "id": Attribute.RUN_ID,
    "name": Attribute.NAME,
    "run_name": Attribute.NAME,
    "status": Attribute.STATUS,
    "start_time": Attribute.START_TIME,
    "created": Attribute.START_TIME,
    "end_time": Attribute.END_TIME,
    "duration": Attribute.DURATION,
}
_NUMERIC_ATTRIBUTES = frozenset({Attribute.START_TIME, Attribute.END_TIME, Attribute.DURATION})
_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True, slots=True)
class Dialect:
    """What one kind of record can be filtered on: the same grammar, other fields.

    ``attributes`` maps each attribute name a filter may use (lower case, aliases included)
    to its key; ``numeric`` holds the keys compared as numbers; ``entities`` the prefixed
    fields allowed (``metrics.<k>``, ``params.<k>``, ``tags.<k>``); ``statuses`` the values
    the attribute ``status`` takes (upper-cased), when it is checked.

    >>> experiments = Dialect(attributes={"name": "name"}, entities=frozenset({Entity.TAG}))
    >>> parse_filter("name LIKE 'churn%' AND tags.team = 'a'", experiments) is not None
    True
    """

    attributes: Mapping[str, str]
    numeric: frozenset[str] = frozenset()
    entities: frozenset[Entity] = dataclasses.field(
        default_factory=lambda: frozenset({Entity.METRIC, Entity.PARAM, Entity.TAG})
    )
    statuses: tuple[str, ...] = ()


#: The dialect of run search (the default).
RUNS = Dialect(
    attributes=_ATTRIBUTES,
    numeric=frozenset(_NUMERIC_ATTRIBUTES),
    entities=frozenset({Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE}),
    statuses=_STATUSES,
)
_OPERATORS_HELP = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL"


# --- tokenizer -------------------------------------------------------------------------


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read the quoted text opening at ``start``; return its contents and the end offset."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch == "\\" and nxt in (quote, "\\"):
            out.append(nxt)
            i += 2
        elif ch == quote and nxt == quote:
            out.append(quote)
            i += 2
        elif ch == quote:
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    what = "quoted key" if quote == "`" else "string"
    raise _ParseError(start, f"unterminated {what}: the {quote} at position {start} is not closed")


def _tokenize(text: str) -> list[_Token]:
    nul = text.find("\x00")
    if nul >= 0:
        raise _ParseError(nul, "a filter must not contain NUL characters (\\x00)")
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCT:
            tokens.append(_Token(_PUNCT[ch], ch, i))
            i += 1
        elif ch in _OP_CHARS:
            end = i
            while end < len(text) and text[end] in _OP_CHARS:
                end += 1
            if text[i:end] not in _OPS:
                raise _ParseError(
                    i,
                    f"unknown operator '{text[i:end]}'; expected one of {', '.join(_OPS)}",
                )
            tokens.append(_Token(_Kind.OP, text[i:end], i))
            i = end
        elif ch in _QUOTES:
            value, end = _read_quoted(text, i)
            kind = _Kind.QFIELD if ch == "`" else _Kind.STRING
            tokens.append(_Token(kind, text[i:end], i, value))
            i = end
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] not in _WORD_END:
                end += 1
            word = text[i:end]
            if word.endswith(".") and end < len(text) and text[end] in _QUOTES:
                key, end = _read_quoted(text, end)
                tokens.append(_Token(_Kind.QFIELD, text[i:end], i, key, word[:-1]))
            elif _NUMBER.fullmatch(word):
                tokens.append(_Token(_Kind.NUMBER, word, i, word))
            else:
                tokens.append(_Token(_Kind.WORD, word, i, word))
            i = end
    tokens.append(_Token(_Kind.EOF, "", len(text)))
    return tokens


def _describe(token: _Token) -> str:
    if token.kind is _Kind.EOF:
        return "end of input"
    if token.kind in (_Kind.STRING, _Kind.NUMBER):
        return f"{token.kind.value} {token.text}"
    return f"'{token.text}'"


# --- fields and values -----------------------------------------------------------------


def _prefixed(dialect: Dialect) -> str:
    entities = (Entity.METRIC, Entity.PARAM, Entity.TAG)
    return ", ".join(f"{e.value}.<key>" for e in entities if e in dialect.entities)


def _attribute(name: str, token: _Token, dialect: Dialect = RUNS) -> str:
    attribute = dialect.attributes.get(name.lower())
    if attribute is None:
        others = _prefixed(dialect)
        raise _ParseError(
            token.pos,
            f"unknown attribute '{name}'; expected one of {', '.join(dialect.attributes)}"
            + (f" (or a field like {others})" if others else ""),
        )
    return attribute


def _resolve_field(token: _Token, dialect: Dialect = RUNS) -> Field:
    if token.kind is _Kind.QFIELD:
        prefix, key = token.prefix, token.value
    else:
        prefix, dot, key = token.text.partition(".")
        if not dot:
            prefix, key = "", token.text
    if not prefix:
        return Field(Entity.ATTRIBUTE, _attribute(key, token, dialect))
    entity = _ENTITIES.get(prefix.lower())
    if entity is None or (entity is not Entity.ATTRIBUTE and entity not in dialect.entities):
        others = _prefixed(dialect)
        raise _ParseError(
            token.pos,
            f"unknown field '{token.text}'; expected {others + ', ' if others else ''}"
            f"attributes.<name> or an attribute name ({', '.join(dialect.attributes)})",
        )
    if not key:
        raise _ParseError(token.pos, f"missing key after '{prefix}.' in '{token.text}'")
    if entity is Entity.ATTRIBUTE:
        return Field(entity, _attribute(key, token, dialect))
    return Field(entity, key)


def _is_numeric(field: Field, dialect: Dialect = RUNS) -> bool:
    return field.entity is Entity.METRIC or (
        field.entity is Entity.ATTRIBUTE and field.key in dialect.numeric
    )


def _label(field: Field) -> str:
    noun = {Entity.METRIC: "metric", Entity.PARAM: "param", Entity.TAG: "tag"}
    return f"{noun.get(field.entity, 'attribute')} '{field}'"


def _number(field: Field, token: _Token) -> float | int:
    if field.entity is not Entity.METRIC and _INTEGER.fullmatch(token.text):
        return int(token.text)
    number = float(token.text)
    if not math.isfinite(number):
        raise _ParseError(token.pos, f"number {token.text} is out of range for {_label(field)}")
    if field.entity is not Entity.METRIC and number.is_integer():
        return int(number)
    return number


def _convert(field: Field, op: Op, token: _Token, dialect: Dialect = RUNS) -> str | float | int:
    """Check one value token against the field's type and return the typed value."""
    if _is_numeric(field, dialect):
        if token.kind is not _Kind.NUMBER:
            raise _ParseError(
                token.pos, f"{_label(field)} takes a number but found {_describe(token)}"
            )
        return _number(field, token)
    if token.kind is _Kind.NUMBER:
        if field.entity in (Entity.PARAM, Entity.TAG):
            return token.text  # MLflow quirk: params.p1 = 1 compares with the string "1"
        raise _ParseError(
            token.pos, f"{_label(field)} takes a quoted string but found number {token.text}"
        )
    if field.key == Attribute.STATUS and field.entity is Entity.ATTRIBUTE and dialect.statuses:
        if op in (Op.LIKE, Op.ILIKE):
            return token.value  # a pattern, not a status
        status = token.value.upper()
        if status not in dialect.statuses:
            raise _ParseError(
                token.pos,
                f"invalid value {token.text} for {_label(field)}; "
                f"expected one of {', '.join(dialect.statuses)}",
            )
        return status
    return token.value


# --- recursive descent -----------------------------------------------------------------


def _flatten(items: list[Filter], kind: type[And] | type[Or]) -> tuple[Filter, ...]:
    """Splice nested groups of the same kind: ``(a AND b) AND c`` becomes one And of three."""
    return tuple(x for item in items for x in (item.items if isinstance(item, kind) else (item,)))


class _Parser:
    def __init__(self, text: str, dialect: Dialect = RUNS) -> None:
        self._tokens = _tokenize(text)
        self._i = 0
        self._dialect = dialect
        self._depth = 0  # parentheses and NOTs open around the current token
        self._terms = 0  # comparisons read so far
        self._values = 0  # IN-list values read so far

    def peek(self) -> _Token:
        return self._tokens[self._i]

    def advance(self) -> _Token:
        token = self._tokens[self._i]
        if token.kind is not _Kind.EOF:
            self._i += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token.kind is _Kind.WORD and token.text.upper() in words

    def fail(self, expected: str) -> _ParseError:
        token = self.peek()
        after = f" after {_describe(self._tokens[self._i - 1])}" if self._i else ""
        return _ParseError(token.pos, f"expected {expected}{after} but found {_describe(token)}")

    def field(self, expected: str) -> Field:
        token = self.peek()
        if token.kind not in (_Kind.WORD, _Kind.QFIELD) or self.at_keyword(*_KEYWORDS):
            raise self.fail(expected)
        self.advance()
        return _resolve_field(token, self._dialect)

    # filter := or_expr
    def parse(self) -> Filter:
        result = self.or_expr()
        token = self.peek()
        if token.kind is _Kind.RPAREN:
            raise _ParseError(token.pos, "unbalanced ')': there is no '(' to close")
        if token.kind is not _Kind.EOF:
            raise self.fail("AND, OR or end of input")
        return result

    def or_expr(self) -> Filter:
        items = [self.and_expr()]
        while self.at_keyword("OR"):
            self.advance()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(_flatten(items, Or))

    def and_expr(self) -> Filter:
        items = [self.not_expr()]
        while self.at_keyword("AND"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(_flatten(items, And))

    def nest(self, token: _Token) -> None:
        self._depth += 1
        if self._depth > MAX_FILTER_DEPTH:
            raise _ParseError(
                token.pos,
                f"the filter nests parentheses and NOT more than {MAX_FILTER_DEPTH} levels deep",
            )

    def not_expr(self) -> Filter:
        token = self.peek()
        if self.at_keyword("NOT"):
            self.nest(token)
            self.advance()
            inner = Not(self.not_expr())
            self._depth -= 1
            return inner
        if token.kind is _Kind.LPAREN:
            self.nest(token)
            self.advance()
            group = self.or_expr()
            if self.peek().kind is not _Kind.RPAREN:
                raise self.fail(f"')' to close the '(' at position {token.pos}")
            self.advance()
            self._depth -= 1
            return group
        return self.comparison()

    def comparison(self) -> Comparison:
        self._terms += 1
        if self._terms > MAX_FILTER_TERMS:
            raise _ParseError(
                self.peek().pos,
                f"the filter has more than {MAX_FILTER_TERMS} comparisons; "
                "use IN (...) lists or split the search",
            )
        field = self.field("a comparison (such as metrics.rmse < 1), NOT or '('")
        token = self.peek()
        if token.kind is _Kind.OP or self.at_keyword("LIKE", "ILIKE"):
            self.advance()
            op = _OPS[token.text] if token.kind is _Kind.OP else Op(token.text.upper())
            if op in (Op.LIKE, Op.ILIKE) and _is_numeric(field, self._dialect):
                raise _ParseError(
                    token.pos,
                    f"{op.value} does not apply to {_label(field)}, which holds numbers; "
                    "use =, !=, <, <=, >, >=, IN, NOT IN or IS [NOT] NULL",
                )
            return Comparison(field, op, _convert(field, op, self.value(), self._dialect))
        if self.at_keyword("IN"):
            self.advance()
            return Comparison(field, Op.IN, self.in_list(field, Op.IN))
        if self.at_keyword("NOT"):
            self.advance()
            if not self.at_keyword("IN"):
                raise self.fail("IN")
            self.advance()
            return Comparison(field, Op.NOT_IN, self.in_list(field, Op.NOT_IN))
        if self.at_keyword("IS"):
            self.advance()
            op = Op.IS_NULL
            if self.at_keyword("NOT"):
                self.advance()
                op = Op.IS_NOT_NULL
            if not self.at_keyword("NULL"):
                raise self.fail("NULL")
            self.advance()
            return Comparison(field, op)
        raise self.fail(f"an operator ({_OPERATORS_HELP})")

    def value(self) -> _Token:
        if self.peek().kind not in (_Kind.STRING, _Kind.NUMBER):
            raise self.fail("a value (a quoted string or a number)")
        return self.advance()

    def in_value(self) -> _Token:
        self._values += 1
        if self._values > MAX_FILTER_VALUES:
            raise _ParseError(
                self.peek().pos,
                f"the filter's IN lists hold more than {MAX_FILTER_VALUES} values in all",
            )
        return self.value()

    def in_list(self, field: Field, op: Op) -> Value:
        if self.peek().kind is not _Kind.LPAREN:
            raise self.fail("'('")
        self.advance()
        if self.peek().kind is _Kind.RPAREN:
            raise _ParseError(self.peek().pos, f"empty {op.value} list; give at least one value")
        values = [_convert(field, op, self.in_value(), self._dialect)]
        while self.peek().kind is _Kind.COMMA:
            self.advance()
            values.append(_convert(field, op, self.in_value(), self._dialect))
        if self.peek().kind is not _Kind.RPAREN:
            raise self.fail(f"',' or ')' in the {op.value} list")
        self.advance()
        if _is_numeric(field, self._dialect):
            return tuple(v for v in values if not isinstance(v, str))
        return tuple(v for v in values if isinstance(v, str))


# --- public API ------------------------------------------------------------------------


def parse_filter(text: str | None, dialect: Dialect = RUNS) -> Filter | None:
    """Parse a run-search filter string (or, with ``dialect``, a filter on other records);
    None or a blank string means "no filter".

    Raises :class:`~mlcycle.errors.FilterSyntaxError` (an ``InvalidInputError``) with the
    0-based ``position`` of the problem, for syntax errors and for values of the wrong type.

    >>> parse_filter("metrics.rmse < 1") == Comparison(Field(Entity.METRIC, "rmse"), Op.LT, 1.0)
    True
    >>> type(parse_filter("metrics.rmse < 1 and (params.model = 'tree' or status = 'failed')"))
    <class 'mlcycle.search.filters.And'>
    >>> parse_filter("  ") is None
    True
    """
    if text is None or not text.strip():
        return None
    try:
        return _Parser(text, dialect).parse()
    except _ParseError as exc:
        message = f"Invalid filter at position {exc.pos}: {exc.message}"
        raise FilterSyntaxError(message, position=exc.pos) from None


def parse_order_by(clauses: Sequence[str] | str | None) -> tuple[OrderBy, ...]:
    """Parse order-by clauses of the form ``FIELD [ASC|DESC]`` (ascending by default).

    A single string may hold several clauses separated by commas; each item of a sequence
    is one clause. Errors raise :class:`~mlcycle.errors.FilterSyntaxError` with
    ``field="order_by"`` and the position within the clause.

    >>> [str(o.field) for o in parse_order_by(["metrics.m2 DESC", "start_time"])]
    ['metrics.m2', 'attributes.start_time']
    >>> parse_order_by("name desc")[0].descending
    True
    """
    if clauses is None:
        return ()
    if isinstance(clauses, str):
        return _parse_order_clauses(clauses, several=True) if clauses.strip() else ()
    return tuple(order for clause in clauses for order in _parse_order_clauses(clause))


def _parse_order_clauses(clause: str, *, several: bool = False) -> tuple[OrderBy, ...]:
    try:
        parser = _Parser(clause)
        orders: list[OrderBy] = []
        while True:
            field = parser.field("a field (such as metrics.rmse or start_time)")
            descending = False
            if parser.at_keyword("ASC", "DESC"):
                descending = parser.advance().text.upper() == "DESC"
            orders.append(OrderBy(field, descending))
            if several and parser.peek().kind is _Kind.COMMA:
                parser.advance()
                continue
            if parser.peek().kind is not _Kind.EOF:
                raise parser.fail("ASC, DESC, ',' or end of clause" if several else "ASC or DESC")
            return tuple(orders)
    except _ParseError as exc:
        message = f"Invalid order_by clause {clause!r} at position {exc.pos}: {exc.message}"
        raise FilterSyntaxError(message, position=exc.pos, field="order_by") from None
