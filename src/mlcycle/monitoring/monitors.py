"""Monitor definitions: checking what a user asks for, and cutting windows out of the
prediction log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlcycle.durations import parse_duration_ms
from mlcycle.entities.monitoring import RetrainKind, RetrainPolicy, Window, WindowKind
from mlcycle.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]*$")
_ENTRY_POINT = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_REFERENCE = re.compile(r"^([^@\s][^@]*)[@:](\d+)$")


def check_name(name: object, *, field: str = "name") -> str:
    """A monitor or rule name: letters, digits, ``_ . -``; 1-250 characters."""
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 250:
        raise InvalidInputError(
            f"invalid {field} {name!r}: 1-250 letters, digits, '_', '.' or '-', starting "
            "with a letter or digit",
            field=field,
        )
    return name


def parse_reference(reference: str | tuple[str, int] | None) -> tuple[str, int] | None:
    """``"NAME@VERSION"`` (or ``NAME:VERSION``) as ``(name, version)``."""
    if reference is None:
        return None
    if isinstance(reference, tuple):
        name, version = reference
        if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
            return str(name), version
    elif (
        isinstance(reference, str)
        and (match := _REFERENCE.match(reference.strip()))
        and int(match.group(2)) >= 1
    ):
        return match.group(1), int(match.group(2))
    raise InvalidInputError(
        f"reference {reference!r} must name a dataset version as NAME@VERSION, e.g. churn@3",
        field="reference",
    )


def parse_schedule(schedule: str | int | None) -> int | None:
    """A schedule such as ``"15m"`` in milliseconds (at least one second)."""
    if schedule is None:
        return None
    if isinstance(schedule, bool):
        raise InvalidInputError("schedule must be a duration such as 15m", field="schedule")
    ms = schedule if isinstance(schedule, int) else parse_duration_ms(schedule, field="schedule")
    if ms < 1000:
        raise InvalidInputError("schedule must be at least 1s", field="schedule")
    return ms


def retrain_policy(
    *,
    entry_point: str | None = None,
    command: str | None = None,
    on_rules: tuple[str, ...] | list[str] = (),
    auto_canary: bool = False,
    canary_steps: tuple[int, ...] | list[int] = (10, 50, 100),
    canary_interval: str | float = 600.0,
) -> RetrainPolicy | None:
    """The retraining policy from its options (None when neither job is given)."""
    if entry_point is not None and command is not None:
        raise InvalidInputError(
            "give a Python entry point or a shell command to retrain, not both", field="retrain"
        )
    if entry_point is None and command is None:
        if auto_canary or on_rules:
            raise InvalidInputError(
                "auto_canary and on_alerts need a retraining job (retrain= or retrain_command=)",
                field="retrain",
            )
        return None
    if entry_point is not None and not _ENTRY_POINT.match(entry_point):
        raise InvalidInputError(
            f"retrain entry point {entry_point!r} must look like package.module:function",
            field="retrain",
        )
    if command is not None and not command.strip():
        raise InvalidInputError("the retrain command is empty", field="retrain_command")
    steps = tuple(canary_steps)
    if (
        not steps
        or any(isinstance(s, bool) or not isinstance(s, int) or not 0 < s <= 100 for s in steps)
        or list(steps) != sorted(set(steps))
    ):
        raise InvalidInputError(
            "canary steps must be rising percentages between 1 and 100", field="canary_steps"
        )
    interval = (
        parse_duration_ms(canary_interval, field="canary_interval") / 1000
        if isinstance(canary_interval, str)
        else float(canary_interval)
    )
    if interval <= 0:
        raise InvalidInputError("canary_interval must be positive", field="canary_interval")
    return RetrainPolicy(
        kind=RetrainKind.PYTHON if entry_point is not None else RetrainKind.COMMAND,
        target=entry_point if entry_point is not None else str(command).strip(),
        on_rules=tuple(check_name(r, field="on_alerts") for r in on_rules),
        auto_canary=auto_canary,
        canary_steps=steps,
        canary_interval_s=interval,
    )


@dataclass(frozen=True)
class WindowFrame:
    """The rows of one window and the span they cover (``start`` None: from the first
    logged row)."""

    frame: pd.DataFrame
    start: int | None
    end: int


def time_bounds(window: Window, now: int) -> tuple[int | None, int]:
    """``[start, end)`` of the log to read for ``window`` ending at ``now``."""
    if window.kind is WindowKind.TIME:
        return now - window.size, now
    return None, now


def cut_window(frame: pd.DataFrame, window: Window, now: int) -> WindowFrame:
    """The rows of ``window`` out of a log read with :func:`time_bounds` (sorted by time):
    all of them for a time window, the last ``size`` for a row window."""
    start, end = time_bounds(window, now)
    if window.kind is WindowKind.ROWS:
        frame = frame.tail(window.size)
        if len(frame):
            start = _ms(frame["time"].iloc[0])
    return WindowFrame(frame.reset_index(drop=True), start, end)


def _ms(value: Any) -> int:
    import pandas as pd

    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value // 1_000_000)
