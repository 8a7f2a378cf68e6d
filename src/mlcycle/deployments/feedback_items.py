"""Feedback items checked and turned into :class:`Feedback` records.

>>> stored, unknown = parse_feedback("churn", [("r1", 1), ("r2", 0)], {"r1"}.__contains__, at=5)
>>> [(f.request_id, f.label) for f in stored], unknown
([('r1', 1)], ['r2'])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mlcycle.deployments.validation import check_feedback_target, check_request_id
from mlcycle.entities.deployments import Feedback
from mlcycle.errors import InvalidInputError

#: ``(request_id, label)`` or ``{"request_id": ..., "label": ...}``
FeedbackItem = tuple[str, Any] | Mapping[str, Any]


def parse_feedback(
    deployment: str,
    items: Iterable[FeedbackItem],
    known: Callable[[str], bool] | None,
    *,
    at: int,
) -> tuple[list[Feedback], list[str]]:
    """The records to store, and the request IDs ``known`` does not know (not stored).

    Raises InvalidInputError for a malformed item, request ID, or a label that is not a
    JSON value; nothing is stored then.
    """
    name = check_feedback_target(deployment)
    stored: list[Feedback] = []
    unknown: list[str] = []
    for i, item in enumerate(items):
        raw_id, label = _item(item, i)
        request_id = check_request_id(raw_id)
        try:
            json.dumps(label, allow_nan=False)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"the label of request {request_id!r} is not a JSON value: {label!r}",
                field="label",
            ) from None
        if known is not None and not known(request_id):
            unknown.append(request_id)
            continue
        stored.append(Feedback(deployment=name, request_id=request_id, label=label, at=at))
    return stored, unknown


def _item(item: FeedbackItem, index: int) -> tuple[object, Any]:
    if isinstance(item, Mapping):
        if "request_id" not in item or "label" not in item:
            raise InvalidInputError(
                f"feedback item {index + 1} needs request_id and label", field="items"
            )
        return item["request_id"], item["label"]
    if isinstance(item, tuple | list) and len(item) == 2:
        return item[0], item[1]
    raise InvalidInputError(
        f"feedback item {index + 1} must be (request_id, label) or a mapping, not {item!r}",
        field="items",
    )
