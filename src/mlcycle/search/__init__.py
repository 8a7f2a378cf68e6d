"""The run search language: typed filter objects and the parser that builds them."""

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
)
from mlcycle.search.parser import RUNS, Dialect, parse_filter, parse_order_by

__all__ = [
    "RUNS",
    "And",
    "Attribute",
    "Comparison",
    "Dialect",
    "Entity",
    "Field",
    "Filter",
    "Not",
    "Op",
    "Or",
    "OrderBy",
    "parse_filter",
    "parse_order_by",
]
