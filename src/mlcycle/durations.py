"""Human durations such as ``30d``, ``12h``, ``15m``, ``10s``, ``500ms``."""

from __future__ import annotations

import re

from mlcycle.errors import InvalidInputError

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


def parse_duration_ms(text: str, *, field: str = "duration") -> int:
    """Milliseconds in ``text``.

    >>> parse_duration_ms("30d")
    2592000000
    """
    match = _PATTERN.match(text)
    if not match:
        raise InvalidInputError(
            f"{field} {text!r} is not a duration: use a number and a unit (ms, s, m, h, d, w), "
            "e.g. 30d",
            field=field,
        )
    return int(float(match.group(1)) * _UNITS_MS[match.group(2)])
