"""The bounds every value obeys before any store sees it, shared by SQLite and PostgreSQL.

Both stores must accept exactly the same data: PostgreSQL refuses what SQLite would store
(NUL characters in text, integers past 64 bits, text longer than its column), and SQLite
refuses what PostgreSQL would run (expressions nested past 1,000 levels). The rules here are
the narrower of the two, checked once, and every refusal is an
:class:`~mlcycle.errors.InvalidInputError` naming the field and the rule (HTTP 400), never a
:class:`~mlcycle.errors.StoreError` (503, "retry later").

>>> check_int64(2**63 - 1, field="step")
9223372036854775807
>>> check_int(2**15, field="n", bits=16)
Traceback (most recent call last):
...
mlcycle.errors.InvalidInputError: n must be a 16-bit integer (between -32768 and 32767), got 32768
>>> check_text("a\\x00b", field="name")
Traceback (most recent call last):
...
mlcycle.errors.InvalidInputError: name must not contain NUL characters (\\x00)
"""

from __future__ import annotations

from mlcycle.errors import InvalidInputError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

#: IDs (experiments, runs) one search or bulk request may name.
MAX_IDS = 1000
#: Parentheses and NOTs a search filter may nest.
MAX_FILTER_DEPTH = 64
#: Comparisons one search filter may hold (SQLite nests each AND/OR term one level deeper
#: and stops at 1,000 levels).
MAX_FILTER_TERMS = 200
#: Values one search filter may hold (across all its IN lists).
MAX_FILTER_VALUES = 1000
#: Values bound into one SQL statement (SQLite allows 32,766, PostgreSQL 65,535).
MAX_BOUND_VALUES = 30_000


def check_int(value: int, *, field: str, bits: int = 64) -> int:
    """``value`` if it fits a signed integer of ``bits`` bits (64, 32 or 16), else refuse it."""
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if not low <= value <= high:
        raise InvalidInputError(
            f"{field} must be a {bits}-bit integer (between {low} and {high}), got {value}",
            field=field,
        )
    return value


def check_int64(value: int, *, field: str) -> int:
    """``value`` if it fits a signed 64-bit integer (steps, timestamps, times, sizes)."""
    return check_int(value, field=field, bits=64)


def check_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """``value`` if it holds no NUL character and (given ``max_length``) is short enough."""
    if "\x00" in value:
        raise InvalidInputError(f"{field} must not contain NUL characters (\\x00)", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidInputError(
            f"{field} must have at most {max_length} characters, got {len(value)}", field=field
        )
    return value


def check_count(count: int, limit: int, *, field: str, what: str) -> int:
    """``count`` if at most ``limit``: the size of a list of IDs, a batch, a filter."""
    if count > limit:
        raise InvalidInputError(
            f"{field} holds {count} {what}; at most {limit} are allowed in one request "
            "(split it into several)",
            field=field,
        )
    return count


__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_BOUND_VALUES",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_TERMS",
    "MAX_FILTER_VALUES",
    "MAX_IDS",
    "check_count",
    "check_int",
    "check_int64",
    "check_text",
]
