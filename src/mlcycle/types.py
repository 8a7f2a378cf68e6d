"""Type aliases shared by every layer. Imports nothing from mlcycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

JSONScalar: TypeAlias = str | int | float | bool | None
JSONValue: TypeAlias = JSONScalar | list["JSONValue"] | dict[str, "JSONValue"]
JSONObject: TypeAlias = dict[str, JSONValue]

#: Milliseconds since the Unix epoch, UTC.
EpochMillis: TypeAlias = int

#: A clock returns the current time in milliseconds since the epoch.
Clock: TypeAlias = Callable[[], EpochMillis]

#: An ID factory returns a new, unique, time-sortable hex string.
IdFactory: TypeAlias = Callable[[], str]

#: Values a param may be logged with; stored as their string form.
ParamValue: TypeAlias = str | int | float | bool | None
