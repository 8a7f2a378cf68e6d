"""Rules for names, keys and values; each failure names the field and the rule."""

from __future__ import annotations

import math
import re
from numbers import Real

from mlcycle.bounds import INT64_MAX, check_int64, check_text
from mlcycle.errors import InvalidInputError
from mlcycle.types import ParamValue

MAX_KEY = 250
MAX_NAME = 500
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
_KEY = re.compile(r"^[\w\-./ :]+$")


def check_key(key: object, *, field: str) -> str:
    """A param, metric or tag key: 1-250 characters of letters, digits, ``_-./ :``."""
    if not isinstance(key, str):
        raise InvalidInputError(f"{field} must be a string, got {type(key).__name__}", field=field)
    if not key or len(key) > MAX_KEY:
        raise InvalidInputError(f"{field} {key!r} must have 1 to {MAX_KEY} characters", field=field)
    if not _KEY.fullmatch(key) or key.startswith("/") or ".." in key.split("/"):
        raise InvalidInputError(
            f"{field} {key!r} may contain only letters, digits, spaces and _ - . / : "
            "and must not start with '/'",
            field=field,
        )
    return key


def check_name(name: object, *, field: str) -> str:
    """An experiment or run name: a non-blank string of at most 500 characters."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"{field} must be a non-empty string", field=field)
    if len(name) > MAX_NAME:
        raise InvalidInputError(f"{field} must have at most {MAX_NAME} characters", field=field)
    return check_text(name, field=field)


def param_text(key: str, value: ParamValue | object) -> str:
    """The stored form of a param value (its ``str``), at most 6000 characters."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE:
        raise InvalidInputError(
            f"param {key!r} has a value of {len(text)} characters; at most {MAX_PARAM_VALUE}",
            field=f"params.{key}",
        )
    return check_text(text, field=f"params.{key}")


def tag_text(key: str, value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE:
        raise InvalidInputError(
            f"tag {key!r} has a value of {len(text)} characters; at most {MAX_TAG_VALUE}",
            field=f"tags.{key}",
        )
    return check_text(text, field=f"tags.{key}")


def metric_value(key: str, value: object) -> float:
    """A metric value as float: any real number (NaN and +/-inf too), not bool or str."""
    if isinstance(value, bool):
        raise InvalidInputError(
            f"metric {key!r} must be a number, got bool {value!r}", field=f"metrics.{key}"
        )
    if isinstance(value, Real):
        return float(value)
    # NumPy scalars and 0-d arrays register as Real or expose __float__.
    if not isinstance(value, (str, bytes, bool)) and hasattr(value, "__float__"):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    raise InvalidInputError(
        f"metric {key!r} must be a number, got {type(value).__name__} {value!r}",
        field=f"metrics.{key}",
    )


def metric_step(key: str, step: object) -> int:
    """A step as int: an integral number that fits 64 bits."""
    if isinstance(step, bool) or not isinstance(step, int):
        if isinstance(step, float) and step.is_integer():
            return check_int64(int(step), field="step")
        if hasattr(step, "__index__"):
            return check_int64(int(step.__index__()), field="step")
        raise InvalidInputError(
            f"step of metric {key!r} must be an integer, got {step!r}", field="step"
        )
    return check_int64(step, field="step")


def metric_timestamp(key: str, timestamp: object) -> float:
    if isinstance(timestamp, bool) or not isinstance(timestamp, Real):
        raise InvalidInputError(
            f"timestamp of metric {key!r} must be milliseconds since the epoch, got {timestamp!r}",
            field="timestamp",
        )
    value = float(timestamp)
    if not math.isfinite(value) or value < 0 or value > INT64_MAX:
        raise InvalidInputError(
            f"timestamp of metric {key!r} must be a non-negative number of milliseconds "
            "that fits 64 bits",
            field="timestamp",
        )
    return value
