"""``/api/v1/deployments/{name}/prediction-log``: files a serving process sends, read back
in a time range; bad input is a 400 naming the field, and nothing is written then. The
HTTP implementation of the port refuses what the local one refuses, alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlcycle.artifacts import open_artifact_store
from mlcycle.backends.http import HttpPredictionLogs
from mlcycle.deployments.prediction_logs import (
    LogEntry,
    PredictionLogWriter,
    RequestSpan,
    StoredPredictionLogs,
    read_prediction_log,
)
from mlcycle.errors import InvalidInputError
from mlcycle.ports.prediction_logs import PredictionLogs
from mlcycle.remote.http import HttpSession
from tests.server.conftest import error_of, unique
from tests.server.live import ServerProcess

HOUR_MS = 3_600_000
T0 = 1_765_000_000_000 - 1_765_000_000_000 % HOUR_MS  # the start of an hour


def _entry(name: str, start_ms: int, n: int, prefix: str) -> LogEntry:
    return LogEntry(
        deployment=name,
        model="m",
        version=1,
        arm="primary",
        columns={"x": np.arange(n, dtype=float)},
        predictions=np.arange(n) % 2,
        requests=[
            RequestSpan(
                request_id=f"{prefix}{i}", time_ms=start_ms + i, start=i, stop=i + 1, latency_ms=1.0
            )
            for i in range(n)
        ],
    )


def _parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


@pytest.fixture
def session(live: ServerProcess) -> Iterator[HttpSession]:
    http = HttpSession(live.url)
    yield http
    http.close()


def test_written_through_the_server_read_anywhere(
    live: ServerProcess, session: HttpSession
) -> None:
    name = unique("dep")
    logs = HttpPredictionLogs(session)
    assert not logs.exists(name)
    writer = PredictionLogWriter(logs)
    writer.append(_entry(name, T0 + 10, 5, "a"))
    writer.append(_entry(name, T0 + HOUR_MS + 10, 3, "b"))  # the next hour's partition
    writer.close()
    assert (writer.written, writer.dropped) == (8, 0)
    assert logs.exists(name)
    frame = read_prediction_log(logs, name)
    assert frame["request_id"].tolist() == [f"a{i}" for i in range(5)] + ["b0", "b1", "b2"]
    assert frame["input.x"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0]
    later = read_prediction_log(logs, name, since=T0 + HOUR_MS)
    assert later["request_id"].tolist() == ["b0", "b1", "b2"]
    assert read_prediction_log(logs, name, until=T0).empty
    assert logs.find_requests(name, {"a1", "b2", "zz"}, None) == {"a1", "b2"}
    assert logs.find_requests(name, {"a1", "b2"}, T0 + HOUR_MS) == {"b2"}
    # the same files, in the server's artifact store, as the store-side reader sees them
    stored = StoredPredictionLogs(open_artifact_store(live.artifact_uri))
    assert read_prediction_log(stored, name).equals(frame)


def test_bad_uploads_are_refused_and_leave_nothing(api: httpx.Client, live: ServerProcess) -> None:
    name = unique("dep")
    base = f"/api/v1/deployments/{name}/prediction-log"
    good = _parquet(pa.table({c: pa.array([], pa.string()) for c in ("request_id", "deployment")}))
    cases = [
        (f"{base}/2026130100/abc", good, "hour"),  # month 13
        (f"{base}/20260101/abc", good, "hour"),
        (f"{base}/2026010100/NOT-HEX", good, "part"),
        (f"{base}/2026010100/abc", b"not parquet at all", "body"),
        (f"{base}/2026010100/abc", good, "body"),  # a Parquet file without the log's columns
    ]
    for path, body, field in cases:
        response = api.put(path, content=body)
        assert response.status_code == 400, (path, response.text)
        assert error_of(response)["field"] == field, response.text
    assert api.get(f"{base}/info").json() == {"exists": False}
    assert api.get(base).status_code == 204
    for query, field in (({"since": 5, "until": 4}, "until"), ({"columns": "input.x"}, "columns")):
        response = api.get(base, params=query)
        assert response.status_code == 400, response.text
        assert error_of(response)["field"] == field


def test_local_and_remote_refuse_alike(session: HttpSession, tmp_path: Path) -> None:
    remote = HttpPredictionLogs(session)
    local = StoredPredictionLogs(open_artifact_store(str(tmp_path)))

    def write(logs: PredictionLogs) -> object:
        logs.write("d", "2026-01-01", b"")
        return None

    def read(logs: PredictionLogs) -> object:
        return logs.read("d", None, None, ["input.x"])

    for call in (write, read):
        with pytest.raises(InvalidInputError) as here:
            call(local)
        with pytest.raises(InvalidInputError) as there:
            call(remote)
        assert (str(there.value), there.value.field) == (str(here.value), here.value.field)
