"""Tests for the run-search filter parser (:mod:`mlcycle.search.parser`)."""

from __future__ import annotations

import pytest

from mlcycle.errors import FilterSyntaxError, InvalidInputError
from mlcycle.search import (
    And,
    Attribute,
    Comparison,
    Dialect,
    Entity,
    Field,
    Filter,
    Not,
    Op,
    Or,
    OrderBy,
    parse_filter,
    parse_order_by,
)
from mlcycle.search.filters import Value


def metric(key: str) -> Field:
    return Field(Entity.METRIC, key)


def param(key: str) -> Field:
    return Field(Entity.PARAM, key)


def tag(key: str) -> Field:
    return Field(Entity.TAG, key)


def attr(attribute: Attribute) -> Field:
    return Field(Entity.ATTRIBUTE, attribute)


def cmp(field: Field, op: Op, value: Value = None) -> Comparison:
    return Comparison(field, op, value)


def parse_error(text: str) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    return info.value


A = cmp(metric("a"), Op.EQ, 1.0)
B = cmp(metric("b"), Op.EQ, 2.0)
C = cmp(metric("c"), Op.EQ, 3.0)
D = cmp(metric("d"), Op.EQ, 4.0)


# --- empty input -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_blank_filter_is_none(text: str | None) -> None:
    assert parse_filter(text) is None


# --- operators -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("metrics.m = 1", Op.EQ),
        ("metrics.m == 1", Op.EQ),
        ("metrics.m != 1", Op.NE),
        ("metrics.m <> 1", Op.NE),
        ("metrics.m < 1", Op.LT),
        ("metrics.m <= 1", Op.LE),
        ("metrics.m > 1", Op.GT),
        ("metrics.m >= 1", Op.GE),
        ("metrics.m>=1", Op.GE),
    ],
)
def test_comparison_operators(text: str, op: Op) -> None:
    assert parse_filter(text) == cmp(metric("m"), op, 1.0)


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("params.p LIKE 'a%'", Op.LIKE),
        ("params.p like 'a%'", Op.LIKE),
        ("params.p ILIKE 'a%'", Op.ILIKE),
        ("params.p iLike 'a%'", Op.ILIKE),
    ],
)
def test_like_operators(text: str, op: Op) -> None:
    assert parse_filter(text) == cmp(param("p"), op, "a%")


def test_in_and_not_in() -> None:
    assert parse_filter("params.p IN ('a', 'b')") == cmp(param("p"), Op.IN, ("a", "b"))
    assert parse_filter("params.p not in ('a')") == cmp(param("p"), Op.NOT_IN, ("a",))
    assert parse_filter("metrics.m IN (1, 2.5, -3)") == cmp(metric("m"), Op.IN, (1.0, 2.5, -3.0))


def test_is_null_and_is_not_null() -> None:
    assert parse_filter("metrics.m IS NULL") == cmp(metric("m"), Op.IS_NULL)
    assert parse_filter("tags.t is not null") == cmp(tag("t"), Op.IS_NOT_NULL)
    assert parse_filter("end_time IS NULL") == cmp(attr(Attribute.END_TIME), Op.IS_NULL)


# --- precedence, parentheses, NOT -------------------------------------------------------


def test_and_binds_tighter_than_or() -> None:
    assert parse_filter("metrics.a = 1 or metrics.b = 2 and metrics.c = 3") == Or((A, And((B, C))))
    assert parse_filter("metrics.a = 1 and metrics.b = 2 or metrics.c = 3") == Or((And((A, B)), C))


def test_not_binds_tighter_than_and() -> None:
    assert parse_filter("not metrics.a = 1 and metrics.b = 2") == And((Not(A), B))
    assert parse_filter("NOT NOT metrics.a = 1") == Not(Not(A))


def test_parentheses_override_precedence() -> None:
    text = "(metrics.a = 1 or metrics.b = 2) and metrics.c = 3"
    assert parse_filter(text) == And((Or((A, B)), C))
    assert parse_filter("not (metrics.a = 1 or metrics.b = 2)") == Not(Or((A, B)))
    assert parse_filter("((metrics.a = 1))") == A


def test_and_or_are_flat() -> None:
    text = "metrics.a = 1 AND metrics.b = 2 AND metrics.c = 3 AND metrics.d = 4"
    assert parse_filter(text) == And((A, B, C, D))
    text = "metrics.a = 1 or (metrics.b = 2 or metrics.c = 3)"
    assert parse_filter(text) == Or((A, B, C))
    text = "(metrics.a = 1 and metrics.b = 2) and (metrics.c = 3 and metrics.d = 4)"
    assert parse_filter(text) == And((A, B, C, D))


def test_single_comparison_is_returned_as_is() -> None:
    result: Filter | None = parse_filter("metrics.a = 1")
    assert isinstance(result, Comparison)


# --- values and quoting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("params.p = 'abc'", "abc"),
        ('params.p = "abc"', "abc"),
        ("params.p = 'it''s'", "it's"),
        ("params.p = 'it\\'s'", "it's"),
        ('params.p = "say ""hi"""', 'say "hi"'),
        ('params.p = "say \\"hi\\""', 'say "hi"'),
        ("params.p = 'back\\\\slash'", "back\\slash"),
        ("params.p = 'a\\_b'", "a\\_b"),
        ("params.p = ''", ""),
        ("params.p = 'a AND b = (c)'", "a AND b = (c)"),
    ],
)
def test_string_values(text: str, value: str) -> None:
    assert parse_filter(text) == cmp(param("p"), Op.EQ, value)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1.0),
        ("-2", -2.0),
        ("+2", 2.0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("-1.5e+2", -150.0),
    ],
)
def test_metric_numbers_are_floats(literal: str, value: float) -> None:
    result = parse_filter(f"metrics.m > {literal}")
    assert result == cmp(metric("m"), Op.GT, value)
    assert isinstance(result, Comparison)
    assert isinstance(result.value, float)


def test_numeric_attributes_are_int_when_integral() -> None:
    start = attr(Attribute.START_TIME)
    assert parse_filter("start_time > 1700000000000") == cmp(start, Op.GT, 1700000000000)
    result = parse_filter("attributes.duration >= 1.0")
    assert isinstance(result, Comparison)
    assert result.value == 1
    assert type(result.value) is int
    assert parse_filter("duration < 2.5") == cmp(attr(Attribute.DURATION), Op.LT, 2.5)
    assert parse_filter("end_time IN (1, 2e3)") == cmp(attr(Attribute.END_TIME), Op.IN, (1, 2000))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("metrics.`my metric` > 1", metric("my metric")),
        ('metrics."my metric" > 1', metric("my metric")),
        ("metrics.`a``b` > 1", metric("a`b")),
        ("metrics.val_loss/epoch-1 > 1", metric("val_loss/epoch-1")),
        ("metrics.a.b.c > 1", metric("a.b.c")),
        ("metric.m > 1", metric("m")),
        ("METRICS.m > 1", metric("m")),
    ],
)
def test_metric_keys(text: str, field: Field) -> None:
    assert parse_filter(text) == cmp(field, Op.GT, 1.0)


@pytest.mark.parametrize("prefix", ["params", "param", "parameter", "parameters"])
def test_param_prefixes(prefix: str) -> None:
    assert parse_filter(f"{prefix}.lr = '0.1'") == cmp(param("lr"), Op.EQ, "0.1")


@pytest.mark.parametrize("prefix", ["tags", "tag"])
def test_tag_prefixes(prefix: str) -> None:
    assert parse_filter(f"{prefix}.team = 'x'") == cmp(tag("team"), Op.EQ, "x")


def test_dotted_tag_key_stays_a_tag() -> None:
    expected = cmp(tag("mlflow.runName"), Op.EQ, "x")
    assert parse_filter("tags.mlflow.runName = 'x'") == expected
    assert parse_filter("tags.`mlflow.runName` = 'x'") == expected
    assert parse_filter("tags.\"mlflow.runName\" = 'x'") == expected


@pytest.mark.parametrize("prefix", ["attributes.", "attribute.", "attr.", "run.", ""])
@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("run_id", Attribute.RUN_ID),
        ("id", Attribute.RUN_ID),
        ("name", Attribute.NAME),
        ("run_name", Attribute.NAME),
        ("status", Attribute.STATUS),
    ],
)
def test_string_attribute_names(prefix: str, name: str, attribute: Attribute) -> None:
    result = parse_filter(f"{prefix}{name} IS NOT NULL")
    assert result == cmp(attr(attribute), Op.IS_NOT_NULL)


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("start_time", Attribute.START_TIME),
        ("created", Attribute.START_TIME),
        ("end_time", Attribute.END_TIME),
        ("duration", Attribute.DURATION),
        ("attributes.START_TIME", Attribute.START_TIME),
        ("attributes.`created`", Attribute.START_TIME),
    ],
)
def test_numeric_attribute_names(name: str, attribute: Attribute) -> None:
    assert parse_filter(f"{name} > 5") == cmp(attr(attribute), Op.GT, 5)


def test_attribute_field_key_is_the_attribute() -> None:
    result = parse_filter("run_id = 'x'")
    assert isinstance(result, Comparison)
    assert result.field.key is Attribute.RUN_ID
    assert str(result.field) == "attributes.run_id"


def test_status_values_are_normalized() -> None:
    status = attr(Attribute.STATUS)
    assert parse_filter("status = 'finished'") == cmp(status, Op.EQ, "FINISHED")
    assert parse_filter("status IN ('Running', 'KILLED')") == cmp(
        status, Op.IN, ("RUNNING", "KILLED")
    )
    # LIKE patterns are patterns, not statuses: kept as written
    assert parse_filter("status LIKE 'FIN%'") == cmp(status, Op.LIKE, "FIN%")


def test_numbers_for_params_and_tags_become_strings() -> None:
    """MLflow quirk: ``params.p1 = 1`` compares with the string written, ``"1"``."""
    assert parse_filter("params.p1 = 1") == cmp(param("p1"), Op.EQ, "1")
    assert parse_filter("params.p1 = 1.50") == cmp(param("p1"), Op.EQ, "1.50")
    assert parse_filter("tags.t != -3") == cmp(tag("t"), Op.NE, "-3")
    assert parse_filter("params.p IN (1, 'b')") == cmp(param("p"), Op.IN, ("1", "b"))


def test_string_fields_accept_ordering_operators() -> None:
    assert parse_filter("params.p < 'b'") == cmp(param("p"), Op.LT, "b")
    assert parse_filter("name >= 'x'") == cmp(attr(Attribute.NAME), Op.GE, "x")


def test_keywords_are_case_insensitive() -> None:
    text = "metrics.a = 1 AnD NoT metrics.b = 2 oR params.p NoT iN ('x') or tags.t Is NoT nUlL"
    assert parse_filter(text) == Or(
        (
            And((A, Not(B))),
            cmp(param("p"), Op.NOT_IN, ("x",)),
            cmp(tag("t"), Op.IS_NOT_NULL),
        )
    )


# --- MLflow examples -------------------------------------------------------------------


def test_mlflow_examples() -> None:
    assert parse_filter("metrics.rmse < 1 and params.model = 'tree'") == And(
        (cmp(metric("rmse"), Op.LT, 1.0), cmp(param("model"), Op.EQ, "tree"))
    )
    assert parse_filter("attributes.status = 'FINISHED'") == cmp(
        attr(Attribute.STATUS), Op.EQ, "FINISHED"
    )
    assert parse_filter("tags.\"mlflow.runName\" LIKE 'abc%'") == cmp(
        tag("mlflow.runName"), Op.LIKE, "abc%"
    )
    assert parse_filter("params.p1 IN ('a','b')") == cmp(param("p1"), Op.IN, ("a", "b"))
    assert parse_filter("attributes.run_id IN ('x','y')") == cmp(
        attr(Attribute.RUN_ID), Op.IN, ("x", "y")
    )
    assert parse_filter("metrics.`f1 score` >= 0.9 and attributes.run_name ILIKE '%cv%'") == And(
        (cmp(metric("f1 score"), Op.GE, 0.9), cmp(attr(Attribute.NAME), Op.ILIKE, "%cv%"))
    )
    assert parse_filter('params.model = "tree"') == cmp(param("model"), Op.EQ, "tree")
    assert parse_filter("attributes.start_time >= 1700000000000") == cmp(
        attr(Attribute.START_TIME), Op.GE, 1700000000000
    )


# --- type errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("metrics.m = 'a'", 12, "metric 'metrics.m' takes a number but found string 'a'"),
        ("metrics.m IN (1, 'a')", 17, "metric 'metrics.m' takes a number"),
        ("start_time > '2024'", 13, "attribute 'attributes.start_time' takes a number"),
        ("metrics.m LIKE '1%'", 10, "LIKE does not apply to metric 'metrics.m'"),
        ("duration ILIKE '1%'", 9, "ILIKE does not apply to attribute 'attributes.duration'"),
        ("run_id = 1", 9, "attribute 'attributes.run_id' takes a quoted string"),
        ("name IN ('a', 2)", 14, "attribute 'attributes.name' takes a quoted string"),
        ("status = 'DONE'", 9, "expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"),
        ("metrics.m > 1e999", 12, "out of range"),
    ],
)
def test_type_errors(text: str, position: int, fragment: str) -> None:
    error = parse_error(text)
    assert isinstance(error, InvalidInputError)
    assert error.position == position
    assert error.field == "filter"
    assert fragment in str(error)
    assert str(error).startswith(f"Invalid filter at position {position}: ")


# --- syntax errors ---------------------------------------------------------------------


def test_error_message_names_position_found_and_expected() -> None:
    error = parse_error("params.p1 = 'a' and metrics.m >")
    assert error.position == 31
    assert str(error) == (
        "Invalid filter at position 31: expected a value (a quoted string or a number) "
        "after '>' but found end of input"
    )


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("(metrics.a = 1", 14, "expected ')' to close the '(' at position 0"),
        ("((metrics.a = 1)", 16, "expected ')' to close the '(' at position 0"),
        ("metrics.a = 1)", 13, "unbalanced ')'"),
        ("metrics.a = 1 metrics.b = 2", 14, "expected AND, OR or end of input"),
        ("metrics.a = 1 and", 17, "expected a comparison"),
        ("or metrics.a = 1", 0, "expected a comparison"),
        ("()", 1, "but found ')'"),
        ("NOT", 3, "but found end of input"),
        ("run_id IN ()", 11, "empty IN list"),
        ("run_id NOT IN ()", 15, "empty NOT IN list"),
        ("run_id IN ('a',)", 15, "expected a value"),
        ("run_id IN ('a' 'b')", 15, "expected ',' or ')'"),
        ("run_id IN 'a'", 10, "expected '(' after 'IN'"),
        ("run_id IN ('a'", 14, "expected ',' or ')'"),
        ("run_id => 'a'", 7, "unknown operator '=>'"),
        ("run_id ! 'a'", 7, "unknown operator '!'"),
        ("run_id ~ 'a'", 7, "expected an operator"),
        ("run_id 'a'", 7, "expected an operator"),
        ("run_id", 6, "expected an operator"),
        ("run_id = 'abc", 9, "unterminated string"),
        ('run_id = "abc', 9, "unterminated string"),
        ("metrics.`abc = 1", 8, "unterminated quoted key"),
        ("params.p = tree", 11, "but found 'tree'"),
        ("params.p = ", 11, "but found end of input"),
        ("run_id NOT LIKE 'a'", 11, "expected IN after 'NOT'"),
        ("run_id IS 'a'", 10, "expected NULL after 'IS'"),
        ("run_id IS NOT", 13, "expected NULL after 'NOT'"),
        ("metrics.m = NaN", 12, "but found 'NaN'"),
    ],
)
def test_syntax_errors(text: str, position: int, fragment: str) -> None:
    error = parse_error(text)
    assert error.position == position
    assert fragment in str(error)
    assert str(error).startswith(f"Invalid filter at position {position}: ")


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("foo = 'a'", 0, "unknown attribute 'foo'; expected one of run_id, id, name"),
        ("attributes.foo = 'a'", 0, "unknown attribute 'foo'"),
        ("bogus.x = 1", 0, "unknown field 'bogus.x'"),
        ("metrics. = 1", 0, "missing key after 'metrics.'"),
        ("metrics.`` = 1", 0, "missing key after 'metrics.'"),
        ("metrics.a = 1 and lifecycle_stage = 'active'", 18, "unknown attribute"),
    ],
)
def test_field_errors(text: str, position: int, fragment: str) -> None:
    error = parse_error(text)
    assert error.position == position
    assert fragment in str(error)


# --- order by --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("metrics.m2 DESC", OrderBy(metric("m2"), descending=True)),
        ("params.p1", OrderBy(param("p1"))),
        ("start_time ASC", OrderBy(attr(Attribute.START_TIME))),
        ("name desc", OrderBy(attr(Attribute.NAME), descending=True)),
        ("metrics.`my metric` desc", OrderBy(metric("my metric"), descending=True)),
        ('tags."mlflow.runName"', OrderBy(tag("mlflow.runName"))),
        ("attributes.created", OrderBy(attr(Attribute.START_TIME))),
        ("  tags.t   Desc  ", OrderBy(tag("t"), descending=True)),
    ],
)
def test_order_by_clause(clause: str, expected: OrderBy) -> None:
    assert parse_order_by([clause]) == (expected,)
    assert parse_order_by(clause) == (expected,)


def test_order_by_several() -> None:
    expected = (OrderBy(metric("m"), descending=True), OrderBy(attr(Attribute.RUN_ID)))
    assert parse_order_by(["metrics.m DESC", "run_id"]) == expected
    assert parse_order_by(("metrics.m DESC", "run_id")) == expected
    assert parse_order_by("metrics.m DESC, run_id") == expected


@pytest.mark.parametrize("clauses", [None, "", "  ", []])
def test_order_by_empty(clauses: list[str] | str | None) -> None:
    assert parse_order_by(clauses) == ()


@pytest.mark.parametrize(
    ("clauses", "clause", "position", "fragment"),
    [
        (["foo"], "foo", 0, "unknown attribute 'foo'"),
        (["metrics.m up"], "metrics.m up", 10, "expected ASC or DESC after 'metrics.m'"),
        (["metrics.m DESC ASC"], "metrics.m DESC ASC", 15, "expected ASC or DESC"),
        (["metrics.m, run_id"], "metrics.m, run_id", 9, "but found ','"),
        ([""], "", 0, "expected a field"),
        (["DESC"], "DESC", 0, "unknown attribute 'DESC'"),
        ("metrics.m desc,", "metrics.m desc,", 15, "expected a field"),
        (["metrics.`m desc"], "metrics.`m desc", 8, "unterminated quoted key"),
    ],
)
def test_order_by_errors(
    clauses: list[str] | str, clause: str, position: int, fragment: str
) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_order_by(clauses)
    error = info.value
    assert error.field == "order_by"
    assert error.position == position
    assert str(error).startswith(f"Invalid order_by clause {clause!r} at position {position}: ")
    assert fragment in str(error)


def test_a_dialect_names_other_fields_with_the_same_grammar_and_messages() -> None:

    experiments = Dialect(
        attributes={"name": "name", "creation_time": "creation_time"},
        numeric=frozenset({"creation_time"}),
        entities=frozenset({Entity.TAG}),
    )
    found = parse_filter("name LIKE 'a%' AND (tags.k = 'v' OR creation_time > 5)", experiments)
    assert isinstance(found, And)
    assert found.items[0] == Comparison(Field(Entity.ATTRIBUTE, "name"), Op.LIKE, "a%")
    with pytest.raises(FilterSyntaxError, match="unknown attribute 'status'; expected one of"):
        parse_filter("status = 'RUNNING'", experiments)
    with pytest.raises(FilterSyntaxError, match=r"unknown field 'metrics\.m'"):
        parse_filter("metrics.m > 1", experiments)
    with pytest.raises(FilterSyntaxError, match="takes a number"):
        parse_filter("creation_time > 'x'", experiments)
    # the run dialect is the default, and its messages are unchanged
    with pytest.raises(FilterSyntaxError, match="Invalid filter at position 0: unknown attribute"):
        parse_filter("creation_time > 5")


# --- limits: deep nesting, many terms, NUL (never a RecursionError or a database error) ---


@pytest.mark.parametrize("depth", [65, 400, 5000])
def test_nesting_deeper_than_the_limit_is_refused_with_its_position(depth: int) -> None:
    text = "(" * depth + "metrics.a > 1" + ")" * depth
    with pytest.raises(FilterSyntaxError, match="more than 64 levels deep") as info:
        parse_filter(text)
    assert info.value.position == 64  # the first '(' past the limit
    with pytest.raises(FilterSyntaxError, match="64 levels"):
        parse_filter("NOT " * depth + "metrics.a > 1")


def test_nesting_up_to_the_limit_parses() -> None:
    assert parse_filter("(" * 64 + "metrics.a > 1" + ")" * 64) == Comparison(
        metric("a"), Op.GT, 1.0
    )
    assert isinstance(parse_filter("NOT " * 64 + "metrics.a > 1"), Not)


def test_too_many_comparisons_is_refused() -> None:
    assert isinstance(parse_filter(" OR ".join(["metrics.a > 1"] * 200)), Or)
    text = " OR ".join(["metrics.a > 1"] * 1000)
    with pytest.raises(FilterSyntaxError, match="more than 200 comparisons") as info:
        parse_filter(text)
    assert info.value.position == len(" OR ".join(["metrics.a > 1"] * 200)) + len(" OR ")


def test_too_many_in_list_values_is_refused() -> None:
    values = ", ".join(f"'{i}'" for i in range(1001))
    with pytest.raises(FilterSyntaxError, match="more than 1000 values"):
        parse_filter(f"params.p IN ({values})")


def test_nul_is_refused_with_its_position() -> None:
    with pytest.raises(FilterSyntaxError, match="NUL") as info:
        parse_filter("params.p = 'a\x00'")
    assert info.value.position == 13
