"""Evidently's side of the ``monitoring`` suite; runs under Evidently's own interpreter.

``python monitoring_evidently.py REFERENCE.parquet CURRENT.parquet [REPEATS]`` reads both
tables with pandas, runs ``Report([DataDriftPreset()])`` on them (Evidently 0.7's new API,
column types inferred) ``REPEATS`` times and prints one JSON line: the seconds of each run,
the peak resident memory above the loaded data (Linux: the high-water mark is reset through
``/proc/self/clear_refs`` before the run), and per column the method, score and verdict.

It imports nothing from mlcycle or the benchmark package: Evidently 0.7.23 needs pandas < 3,
so it lives in a virtual environment of its own (``make bench`` creates ``.venv-evidently``).
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _hwm_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss_bytes() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_hwm() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main(reference_path: str, current_path: str, repeats: int) -> dict[str, Any]:
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    runs = []
    columns: dict[str, Any] = {}
    for _ in range(repeats):
        baseline = _rss_bytes()
        exact = _reset_hwm()
        started = time.perf_counter()
        report = Report([DataDriftPreset()], include_tests=True)
        snapshot = report.run(
            Dataset.from_pandas(current, data_definition=DataDefinition()),
            Dataset.from_pandas(reference, data_definition=DataDefinition()),
        )
        result = snapshot.dict()
        seconds = time.perf_counter() - started
        runs.append(
            {"seconds": seconds, "peak_above_data": _hwm_bytes() - baseline, "exact_peak": exact}
        )
        columns = _columns(result)
        del report, snapshot, result
    return {
        "evidently": evidently.__version__,
        "pandas": pd.__version__,
        "runs": runs,
        "columns": columns,
    }


def _columns(result: dict[str, Any]) -> dict[str, Any]:
    """Per column: the method's display name, the score and whether its test failed."""
    columns: dict[str, Any] = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config.get("method"),
                "threshold": config.get("threshold"),
                "score": float(metric["value"]),
            }
    pattern = re.compile(r"Value Drift for column (.+)$")
    for test in result.get("tests", []):
        found = pattern.match(test.get("name", ""))
        if found and found.group(1) in columns:
            columns[found.group(1)]["drifted"] = test["status"] == "FAIL"
    return columns


if __name__ == "__main__":
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    print(json.dumps(main(sys.argv[1], sys.argv[2], count)))
