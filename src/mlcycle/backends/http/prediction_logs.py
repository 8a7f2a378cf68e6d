"""``HttpPredictionLogs``: prediction logs in a tracking server's artifact store, through
its ``/api/v1/deployments/{name}/prediction-log`` routes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from mlcycle.backends.http._wire import get_json, params, seg, send_json
from mlcycle.deployments.prediction_logs import check_columns, check_hour
from mlcycle.ids import new_id
from mlcycle.remote.http import HttpSession

PARQUET = "application/vnd.apache.parquet"


def _log(name: str) -> str:
    return f"/api/v1/deployments/{seg(name)}/prediction-log"


class HttpPredictionLogs:
    """The :class:`~mlcycle.ports.prediction_logs.PredictionLogs` of a server: a serving
    process run against ``mlcycle server`` writes its log here, so
    ``mlcycle.deployments.prediction_log`` and the server's monitors read it from any
    machine.

    >>> logs = HttpPredictionLogs(HttpSession("http://127.0.0.1:5000"))
    >>> logs.exists("churn")  # doctest: +SKIP
    """

    def __init__(self, http: HttpSession) -> None:
        self.http = http

    def write(self, deployment: str, hour: str, data: bytes) -> None:
        check_hour(hour)
        # The part ID is picked here, so the PUT may be retried: the file lands once.
        path = f"{_log(deployment)}/{hour}/{new_id()}"
        self.http.request("PUT", path, content=data, headers={"Content-Type": PARQUET})

    def exists(self, deployment: str) -> bool:
        return bool(get_json(self.http, f"{_log(deployment)}/info")["exists"])

    def read(
        self,
        deployment: str,
        since_ms: int | None,
        until_ms: int | None,
        columns: Sequence[str] | None = None,
    ) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        wanted = None if columns is None else ",".join(check_columns(columns))
        query = params(since=since_ms, until=until_ms, columns=wanted)
        response = self.http.request("GET", _log(deployment), params=query)
        if response.status_code == 204 or not response.content:
            return None
        return pq.read_table(pa.BufferReader(response.content))

    def find_requests(
        self, deployment: str, request_ids: Collection[str], since_ms: int | None
    ) -> set[str]:
        body = {"request_ids": sorted(request_ids), "since_ms": since_ms}
        found = send_json(self.http, "POST", f"{_log(deployment)}/find-requests", body)
        return set(found["found"])
