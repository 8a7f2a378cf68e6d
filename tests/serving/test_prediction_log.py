"""The prediction log's writer and reader, in-process: schema, hour partitions, time
windows, schema unification, a full queue dropping (and counting) rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcycle.deployments.prediction_logs import (
    LogEntry,
    PredictionLogWriter,
    RequestSpan,
    deployment_dir,
    logged_request_ids,
    read_prediction_log,
)
from mlcycle.errors import InvalidInputError

HOUR = 3_600_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % HOUR  # the start of an hour


def entry(
    *,
    time_ms: int = T0,
    ids: tuple[str, ...] = ("r1", "r2"),
    rows: tuple[int, ...] = (1, 2),
    version: int | None = 3,
    arm: str = "primary",
    extra: bool = False,
) -> LogEntry:
    total = sum(rows)
    columns = {
        "age": np.arange(total, dtype=np.int64) + 30,
        "income": np.linspace(1.0, 2.0, total),
        "plan": np.array(["a", "b", "c", "d", "e", "f"][:total], dtype=object),
    }
    if extra:
        columns["region"] = np.array(["n"] * total, dtype=object)
    spans, start = [], 0
    for i, (rid, n) in enumerate(zip(ids, rows, strict=True)):
        spans.append(
            RequestSpan(request_id=rid, time_ms=time_ms + i, start=start, stop=start + n,
                        latency_ms=1.5)
        )  # fmt: skip
        start += n
    proba = np.column_stack([np.full(total, 0.25), np.full(total, 0.75)])
    return LogEntry(
        deployment="churn",
        model="churn",
        version=version,
        arm=arm,
        columns=columns,
        predictions=np.ones(total, dtype=np.int64),
        requests=spans,
        proba=proba,
        classes=[0, 1],
    )


def test_one_row_per_predicted_row_with_the_documented_columns(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path)
    assert writer.append(entry())
    writer.close()
    frame = read_prediction_log(tmp_path, "churn")
    assert list(frame.columns[:9]) == [
        "time", "request_id", "row", "deployment", "model", "version", "arm", "latency_ms",
        "prediction",
    ]  # fmt: skip
    assert set(frame.columns[9:]) == {
        "proba.0", "proba.1", "input.age", "input.income", "input.plan"
    }  # fmt: skip
    assert frame["request_id"].tolist() == ["r1", "r2", "r2"]
    assert frame["row"].tolist() == [0, 0, 1]
    assert str(frame["row"].dtype) == "int32"
    assert frame["version"].tolist() == [3, 3, 3]
    assert frame["time"].tolist()[0] == pd.Timestamp(T0, unit="ms", tz="UTC")
    assert frame["input.age"].tolist() == [30, 31, 32]
    assert frame["input.plan"].tolist() == ["a", "b", "c"]
    assert frame["proba.1"].tolist() == [0.75] * 3
    assert frame["latency_ms"].tolist() == [1.5] * 3
    files = list(deployment_dir(tmp_path, "churn").glob("hour=*/part-*.parquet"))
    hour = datetime.fromtimestamp(T0 / 1000, UTC).strftime("%Y%m%d%H")
    assert [f.parent.name for f in files] == [f"hour={hour}"]


def test_windows_read_only_their_hours_and_rows(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path)
    for h in range(3):
        writer.append(entry(time_ms=T0 + h * HOUR, ids=(f"h{h}a", f"h{h}b")))
    writer.close()
    assert len(list(deployment_dir(tmp_path, "churn").iterdir())) == 3
    everything = read_prediction_log(tmp_path, "churn")
    assert everything["request_id"].tolist() == ["h0a", "h0b", "h0b", "h1a", "h1b", "h1b",
                                                 "h2a", "h2b", "h2b"]  # fmt: skip
    window = read_prediction_log(tmp_path, "churn", since=T0 + HOUR, until=T0 + 2 * HOUR)
    assert window["request_id"].tolist() == ["h1a", "h1b", "h1b"]
    since = datetime.fromtimestamp((T0 + 2 * HOUR + 1) / 1000, UTC).replace(tzinfo=None)
    assert read_prediction_log(tmp_path, "churn", since=since)["request_id"].tolist() == [
        "h2b", "h2b"
    ]  # fmt: skip
    assert logged_request_ids(tmp_path, "churn", {"h1a", "zz"}) == {"h1a"}


def test_files_with_different_columns_are_unified(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path)
    writer.append(entry(ids=("old",), rows=(1,), version=None, arm="a"))
    writer.flush()
    writer.append(entry(time_ms=T0 + 10, ids=("new",), rows=(1,), extra=True, arm="b"))
    writer.close()
    frame = read_prediction_log(tmp_path, "churn")
    assert frame["request_id"].tolist() == ["old", "new"]
    assert frame["version"].isna().tolist() == [True, False]
    assert frame["input.region"].isna().tolist() == [True, False]
    assert frame["input.region"].iloc[1] == "n"
    assert frame["arm"].tolist() == ["a", "b"]


def test_a_full_queue_drops_and_counts_rows(tmp_path: Path) -> None:
    writer = PredictionLogWriter(tmp_path, max_queued_rows=4, flush_rows=1_000)
    assert writer.append(entry())  # 3 rows
    assert not writer.append(entry(ids=("x", "y")))  # 3 more do not fit
    assert writer.dropped == 3
    writer.close()
    assert writer.written == 3
    assert len(read_prediction_log(tmp_path, "churn")) == 3


def test_empty_and_bad_reads(tmp_path: Path) -> None:
    empty = read_prediction_log(tmp_path, "nobody")
    assert len(empty) == 0
    assert "prediction" in empty.columns
    with pytest.raises(InvalidInputError, match="until"):
        read_prediction_log(tmp_path, "churn", since=10, until=5)
    with pytest.raises(InvalidInputError, match="since"):
        read_prediction_log(tmp_path, "churn", since="yesterday")  # type: ignore[arg-type]


def test_queued_entries_are_staged_between_writes_and_written_once(tmp_path: Path) -> None:
    """The thread turns queued entries into tables in small steps (so no flush stalls
    the event loop with a whole interval's work) and writes them together later."""
    writer = PredictionLogWriter(tmp_path, flush_rows=1_000, flush_interval_s=3_600)
    writer.append(entry(ids=("a1", "a2")))
    deadline = time.monotonic() + 30
    while writer._queued_rows and time.monotonic() < deadline:  # staged by the thread
        time.sleep(0.02)
    assert writer._queued_rows == 0
    assert not deployment_dir(tmp_path, "churn").exists()  # staged, not yet written
    writer.append(entry(time_ms=T0 + 5, ids=("b1", "b2")))
    writer.close()
    files = list(deployment_dir(tmp_path, "churn").glob("hour=*/part-*.parquet"))
    assert len(files) == 1
    assert writer.written == 6
    frame = read_prediction_log(tmp_path, "churn")
    assert frame["request_id"].tolist() == ["a1", "a2", "a2", "b1", "b2", "b2"]
