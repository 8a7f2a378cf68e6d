"""Logical column types shared by profiles, validation rules and diffs.

Arrow has dozens of physical types; users reason about a handful of logical ones::

    >>> import pyarrow as pa
    >>> logical_type(pa.int32()), logical_type(pa.dictionary(pa.int8(), pa.string()))
    ('integer', 'categorical')

``numeric`` is used for decimals and, in validation rules, as the umbrella matching
``integer``, ``float`` and ``numeric`` columns.
"""

from __future__ import annotations

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from mlcycle.entities.profiles import LOGICAL_TYPES, NUMERIC_TYPES, LogicalType

__all__ = [
    "LOGICAL_TYPES",
    "NUMERIC_TYPES",
    "LogicalType",
    "is_known_type_name",
    "is_string_type",
    "logical_type",
    "type_matches",
]


def is_string_type(arrow_type: pa.DataType) -> bool:
    """True for ``string``, ``large_string`` and ``string_view``."""
    t = pa.types
    is_view = getattr(t, "is_string_view", None)  # pyarrow >= 16
    return bool(
        t.is_string(arrow_type)
        or t.is_large_string(arrow_type)
        or (is_view is not None and is_view(arrow_type))
    )


def logical_type(arrow_type: pa.DataType) -> LogicalType:
    """Map an Arrow type to its logical type.

    >>> logical_type(pa.timestamp("us"))
    'datetime'
    """
    t = pa.types
    if t.is_boolean(arrow_type):
        return "boolean"
    if t.is_integer(arrow_type):
        return "integer"
    if t.is_floating(arrow_type):
        return "float"
    if t.is_decimal(arrow_type):
        return "numeric"
    if is_string_type(arrow_type):
        return "string"
    if t.is_dictionary(arrow_type):
        return "categorical"
    if t.is_timestamp(arrow_type) or t.is_date(arrow_type):
        return "datetime"
    return "other"


def type_matches(arrow_type: pa.DataType, expected: str) -> bool:
    """Whether ``arrow_type`` satisfies ``expected`` (a logical type or an Arrow type name).

    >>> type_matches(pa.int64(), "numeric"), type_matches(pa.int64(), "int32")
    (True, False)
    """
    actual = logical_type(arrow_type)
    if expected == "numeric":
        return actual in NUMERIC_TYPES
    if expected in LOGICAL_TYPES:
        return actual == expected
    return str(arrow_type) == str(pa.type_for_alias(expected))


def is_known_type_name(name: str) -> bool:
    """True for a logical type name or an Arrow alias such as ``int64`` or ``timestamp[ms]``."""
    if name in LOGICAL_TYPES:
        return True
    try:
        pa.type_for_alias(name)
    except (ValueError, KeyError):
        return False
    return True
