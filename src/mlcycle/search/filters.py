"""Typed filter objects for run search.

A filter string such as ``metrics.m1 > 0.5 and params.p1 = 'a'`` is parsed at the edge
(:mod:`mlcycle.search.parser`) into these objects; stores compile them into one SQL query.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Entity(StrEnum):
    """What a field refers to."""

    PARAM = "params"
    METRIC = "metrics"
    TAG = "tags"
    ATTRIBUTE = "attributes"


class Attribute(StrEnum):
    """Run attributes that can be filtered and ordered on."""

    RUN_ID = "run_id"
    NAME = "name"
    STATUS = "status"
    START_TIME = "start_time"
    END_TIME = "end_time"
    DURATION = "duration"


class Op(StrEnum):
    """Comparison operators."""

    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "LIKE"
    ILIKE = "ILIKE"
    IN = "IN"
    NOT_IN = "NOT IN"
    IS_NULL = "IS NULL"
    IS_NOT_NULL = "IS NOT NULL"


@dataclass(frozen=True, slots=True)
class Field:
    """A searchable field: ``params.lr`` is ``Field(Entity.PARAM, "lr")``.

    For attributes, ``key`` is an :class:`Attribute` value.
    """

    entity: Entity
    key: str

    def __str__(self) -> str:
        return f"{self.entity.value}.{self.key}"


Value = str | float | int | tuple[str, ...] | tuple[float, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value``. ``value`` is a tuple for IN / NOT IN and None for IS [NOT] NULL.

    Metric values and numeric attributes (start_time, end_time, duration) compare as
    numbers; params, tags and the other attributes as strings.
    """

    field: Field
    op: Op
    value: Value = None


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` hold."""

    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one of ``items`` holds."""

    items: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``item`` does not hold."""

    item: Filter


Filter = Comparison | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ordering key; rows with no value for the field sort last in either direction."""

    field: Field
    descending: bool = False
