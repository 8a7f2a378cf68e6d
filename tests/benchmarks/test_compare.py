"""``python -m benchmarks --compare``: each figure's change against an earlier run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from benchmarks._common import Result, write_json
from benchmarks.compare import compare, load_figures


def _write(folder: Path, results: list[Result]) -> None:
    write_json(
        folder / "tracking.json",
        suite="tracking",
        quick=True,
        started=time.time(),
        duration_s=1.0,
        results=results,
        errors={},
        load_average_at_start=[0.5, 0.5, 0.5],
    )


def _rate(value: float) -> Result:
    result = Result("ingest", "points/s", "points/s", value, 1000.0, higher_is_better=True)
    result.details["load_average_before"] = [1.0, 1.0, 1.0]
    return result


def _latency(name: str, value: float) -> Result:
    return Result(name, "search", "ms", value, 20.0, higher_is_better=False)


def test_changes_read_in_each_figures_direction(tmp_path: Path) -> None:
    earlier, current = tmp_path / "earlier", tmp_path / "current"
    _write(earlier, [_rate(800.0), _latency("search", 40.0), _latency("gone", 1.0)])
    _write(current, [_rate(1600.0), _latency("search", 41.0), _latency("fresh", 3.0)])

    lines = compare(earlier, current)
    ingest = next(line for line in lines if line.startswith("tracking/ingest"))

    assert ingest.startswith("tracking/ingest: 800 -> 1,600 points/s: 2.00x better")
    assert "goal now MET" in ingest
    assert "(load 1.0 -> 1.0)" in ingest
    assert "tracking/search: 40.0 -> 41.0 ms: same" in "\n".join(lines)
    assert any(line.startswith("tracking/fresh: 3.00 ms (new") for line in lines)
    assert "tracking/gone: not run this time" in lines


def test_a_latency_that_doubled_is_worse(tmp_path: Path) -> None:
    earlier, current = tmp_path / "earlier", tmp_path / "current"
    _write(earlier, [_latency("search", 10.0)])
    _write(current, [_latency("search", 20.0)])
    assert "2.00x worse" in compare(earlier / "tracking.json", current)[1]


def test_a_missing_or_foreign_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="does not exist"):
        load_figures(tmp_path / "nowhere")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SystemExit, match="is not a benchmark JSON"):
        load_figures(bad)
