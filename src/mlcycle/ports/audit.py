"""The audit trail's port: what every service that changes state writes to.

Each state change (create, update, promote, deploy, roll back, retire, delete...) appends
one event: who (taken from the request's actor by the implementation), what (``action``,
such as ``"deployment.split"``), which object (``target``, such as ``"deployment:churn"``),
and JSON-ready snapshots ``before`` and ``after``. Events are only ever appended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class AuditSink(Protocol):
    def record(
        self,
        action: str,
        target: str,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one event to the audit trail."""
        ...
