"""Checks on what users give the deployment service: names, serving options, split
weights, canary steps and guards. Each error names the field and the rule."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from mlcycle.entities.deployments import ServingOptions
from mlcycle.errors import InvalidInputError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
MAX_NAME = 128
MAX_REQUEST_ID = 250


def check_name(name: object, *, field: str = "name") -> str:
    """A deployment name: 1-128 letters, digits, ``_``, ``.`` and ``-``, not starting
    with a punctuation mark (it appears in URLs: ``/v2/models/NAME/infer``)."""
    if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.match(name):
        raise InvalidInputError(
            f"invalid deployment name {name!r}: 1-{MAX_NAME} letters, digits, '_', '.' and "
            "'-', a letter or digit first",
            field=field,
        )
    return name


def _real(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidInputError(f"{field} must be a number, not {value!r}", field=field)
    return float(value)


def check_options(options: ServingOptions) -> ServingOptions:
    """Serving options within their ranges."""
    size = options.max_batch_size
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 100_000:
        raise InvalidInputError(
            f"max_batch_size must be a whole number from 1 to 100000, not {size!r}",
            field="max_batch_size",
        )
    latency = _real(options.max_latency_ms, "max_latency_ms")
    if not 0 <= latency <= 60_000:
        raise InvalidInputError(
            f"max_latency_ms must be from 0 to 60000, not {latency:g}", field="max_latency_ms"
        )
    rate = _real(options.log_sample_rate, "log_sample_rate")
    if not 0 <= rate <= 1:
        raise InvalidInputError(
            f"log_sample_rate must be from 0 to 1, not {rate:g}", field="log_sample_rate"
        )
    key = options.routing_key
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise InvalidInputError(
            "routing_key must name an input field (a non-empty string)", field="routing_key"
        )
    if not all(isinstance(t, str) and t for t in options.trusted):
        raise InvalidInputError("trusted must list type names (strings)", field="trusted")
    return options


def check_split(targets: object) -> list[tuple[str, float]]:
    """At least one (model URI, weight) pair; each weight 0-100, adding up to 100."""
    if isinstance(targets, str | bytes) or not isinstance(targets, Sequence) or not targets:
        raise InvalidInputError(
            "a split needs at least one (model URI, weight) pair", field="targets"
        )
    checked: list[tuple[str, float]] = []
    for i, item in enumerate(targets):
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise InvalidInputError(
                f"split target {i + 1} must be a (model URI, weight) pair, not {item!r}",
                field="targets",
            )
        uri, weight = item
        value = _real(weight, "weight")
        if not 0 <= value <= 100:
            raise InvalidInputError(
                f"the weight of {uri} must be from 0 to 100, not {value:g}", field="weight"
            )
        checked.append((uri, value))
    total = sum(w for _, w in checked)
    if abs(total - 100) > 1e-6:
        raise InvalidInputError(f"split weights must add up to 100, not {total:g}", field="weight")
    if len(checked) > 26:
        raise InvalidInputError("a split has at most 26 arms", field="targets")
    return checked


def check_steps(steps: object) -> tuple[int, ...]:
    """Canary steps: whole percentages from 1 to 100, strictly increasing, ending at 100."""
    if isinstance(steps, str | bytes) or not isinstance(steps, Sequence) or not steps:
        raise InvalidInputError(
            "canary steps must be a list of percentages ending at 100", field="steps"
        )
    out: list[int] = []
    for step in steps:
        if isinstance(step, bool) or not isinstance(step, int | float) or step != int(step):
            raise InvalidInputError(
                f"canary step {step!r} must be a whole percentage", field="steps"
            )
        value = int(step)
        if not 1 <= value <= 100:
            raise InvalidInputError(f"canary step {value} must be from 1 to 100", field="steps")
        if out and value <= out[-1]:
            raise InvalidInputError(
                f"canary steps must increase strictly: {value} follows {out[-1]}", field="steps"
            )
        out.append(value)
    if out[-1] != 100:
        raise InvalidInputError(f"canary steps must end at 100, not {out[-1]}", field="steps")
    return tuple(out)


def check_guards(
    *,
    interval_s: object,
    max_error_rate: object,
    max_p99_ms: object,
    min_accuracy: object,
) -> tuple[float, float | None, float | None, float | None]:
    """The canary's interval (> 0 s) and guards (rates and accuracy 0-1, p99 > 0 ms)."""
    interval = _real(interval_s, "interval")
    if not 0 < interval <= 366 * 86_400:
        raise InvalidInputError(
            f"the canary interval must be more than 0 s and at most a year, not {interval:g} s",
            field="interval",
        )
    error_rate = None if max_error_rate is None else _real(max_error_rate, "max_error_rate")
    if error_rate is not None and not 0 <= error_rate <= 1:
        raise InvalidInputError(
            f"max_error_rate must be from 0 to 1, not {error_rate:g}", field="max_error_rate"
        )
    p99 = None if max_p99_ms is None else _real(max_p99_ms, "max_p99_ms")
    if p99 is not None and not p99 > 0:
        raise InvalidInputError(f"max_p99_ms must be above 0, not {p99:g}", field="max_p99_ms")
    accuracy = None if min_accuracy is None else _real(min_accuracy, "min_accuracy")
    if accuracy is not None and not 0 <= accuracy <= 1:
        raise InvalidInputError(
            f"min_accuracy must be from 0 to 1, not {accuracy:g}", field="min_accuracy"
        )
    return interval, error_rate, p99, accuracy


def check_percent(percent: object) -> float:
    value = _real(percent, "percent")
    if not 0 < value <= 100:
        raise InvalidInputError(
            f"the shadow percent must be more than 0 and at most 100, not {value:g}",
            field="percent",
        )
    return value


def check_feedback_target(name: object) -> str:
    """Whose feedback it is: a deployment's name or (for a model served without one) a
    registered model's name, so any non-empty name up to 500 characters."""
    if not isinstance(name, str) or not name.strip() or len(name) > 500:
        raise InvalidInputError(
            f"feedback needs a deployment or model name (1-500 characters), not {name!r}",
            field="deployment",
        )
    return name


def check_request_id(request_id: object) -> str:
    if not isinstance(request_id, str) or not request_id or len(request_id) > MAX_REQUEST_ID:
        raise InvalidInputError(
            f"request_id must be a string of 1-{MAX_REQUEST_ID} characters, not {request_id!r}",
            field="request_id",
        )
    return request_id
