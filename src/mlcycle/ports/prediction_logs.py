"""Where prediction logs live: the :class:`PredictionLogs` port.

A serving process writes its log as whole Parquet files, one per flush, into hour
partitions; readers (``mlcycle.deployments.prediction_log``, monitors, the feedback check)
read a deployment's rows in a time range. Locally the files sit in the artifact store
(:class:`~mlcycle.deployments.prediction_logs.StoredPredictionLogs`); a client of
``mlcycle server`` writes and reads them through the server's
``/api/v1/deployments/{name}/prediction-log`` routes
(:class:`~mlcycle.backends.http.HttpPredictionLogs`), so the log lands in the server's
artifact store, where the team's monitors read it.

    >>> def rows(logs: PredictionLogs, name: str) -> int:
    ...     table = logs.read(name, None, None)
    ...     return 0 if table is None else table.num_rows
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class PredictionLogs(Protocol):
    """The prediction logs of one place (an artifact store, or a server)."""

    def write(self, deployment: str, hour: str, data: bytes) -> None:
        """Store ``data`` (one whole Parquet file) in the ``hour`` partition
        (``YYYYMMDDHH``, UTC) of ``deployment``'s log; readers see it whole or not at all."""
        ...

    def exists(self, deployment: str) -> bool:
        """Whether anything was ever logged for ``deployment``."""
        ...

    def read(
        self,
        deployment: str,
        since_ms: int | None,
        until_ms: int | None,
        columns: Sequence[str] | None = None,
    ) -> Any:
        """The logged rows with ``since_ms <= time < until_ms`` (None leaves that end
        open) as one ``pyarrow.Table``, unsorted, in the files' column union (``columns``, a
        subset of the columns every file has, keeps only those); None when no file is in range."""
        ...

    def find_requests(
        self, deployment: str, request_ids: Collection[str], since_ms: int | None
    ) -> set[str]:
        """Which of ``request_ids`` appear in the log from ``since_ms`` on."""
        ...
