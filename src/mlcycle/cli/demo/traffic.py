"""Simulated clients: threads sending rows of a DataFrame to a serving process over HTTP.

Each request carries a few rows in MLflow's ``dataframe_split`` format to ``/invocations``;
the answers' request IDs are kept with the rows they scored, so the monitoring stage can
send the true labels back as feedback.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

REQUEST_ID_HEADER = "x-request-id"
VERSION_HEADERS = ("x-model-version", "mlcycle-model-version")


@dataclass
class Answer:
    """One answered request: its ID, the version that answered, the rows it scored."""

    request_id: str
    version: str
    rows: list[int]
    predictions: list[Any]


@dataclass
class TrafficReport:
    """What the simulated clients saw."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    answers: list[Answer] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.failures

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    @property
    def versions(self) -> Counter[str]:
        return Counter(a.version for a in self.answers)


def _version_of(response: httpx.Response) -> str:
    for header in VERSION_HEADERS:
        if header in response.headers:
            return response.headers[header]
    return "?"


def send(
    url: str,
    frame: Any,
    *,
    clients: int = 8,
    rows_per_request: int = 1,
    on_progress: Any = None,
) -> TrafficReport:
    """Send every row of ``frame`` (a pandas DataFrame of features) from ``clients`` threads.

    ``on_progress(n)`` is called with the number of rows each answered request scored.
    """
    columns = [str(c) for c in frame.columns]
    records = frame.to_numpy(dtype=object).tolist()
    chunks = [
        list(range(start, min(start + rows_per_request, len(records))))
        for start in range(0, len(records), rows_per_request)
    ]
    lock = threading.Lock()
    report = TrafficReport(seconds=0.0)
    cursor = iter(chunks)

    def work() -> None:
        with httpx.Client(base_url=url, timeout=30.0) as http:
            while True:
                with lock:
                    rows = next(cursor, None)
                if rows is None:
                    return
                body = {
                    "dataframe_split": {
                        "columns": columns,
                        "data": [[_plain(v) for v in records[i]] for i in rows],
                    }
                }
                start = time.perf_counter()
                try:
                    response = http.post("/invocations", json=body)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok, response = False, None
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    if not ok or response is None:
                        report.failures += 1
                        continue
                    report.latencies_ms.append(elapsed)
                    report.answers.append(
                        Answer(
                            response.headers.get(REQUEST_ID_HEADER, ""),
                            _version_of(response),
                            rows,
                            list(response.json().get("predictions", [])),
                        )
                    )
                if on_progress is not None:
                    on_progress(len(rows))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.seconds = time.perf_counter() - started
    return report


def _plain(value: Any) -> Any:
    """A JSON-ready Python value for a NumPy scalar."""
    return value.item() if isinstance(value, np.generic) else value
