"""Monitoring benchmarks for issue 7: a data drift report against Evidently 0.7's
``DataDriftPreset``, measured in the same run.

Data: reference and current tables of 20 float columns, standard normal; the current one is
shifted by +0.5 on 5 columns (seeded, so every run compares the same numbers).

1. ``drift_1m``: ``mlcycle.monitoring.drift(reference, current)`` at 1,000,000 rows each
   (plus ``to_dict()``), median of repetitions. Goal: at most 1.5 s.
2. ``drift_1m_memory``: the peak resident memory above the loaded data during that report.
   Goal: at most 300 MiB.
3. ``drift_100k``: the same at 100,000 rows each. Goal: at most 0.1 s.
4. ``monitor_window``: what a scheduled monitor pays per window: the reference profiled
   once (``ReferenceProfile.from_frame``, timed apart; the monitoring service keeps it in
   its ``ReferenceCache`` keyed by the dataset version's ID), then ``drift(profile,
   window)`` over a 1,000,000-row window, whose report must equal ``drift(reference,
   window)``'s. Goal: at most 0.5 s per window.

CPU time (``time.process_time`` of the measuring process, all threads) is printed beside
wall-clock time: on a busy machine the wall clock mostly measures the other work.

Each side runs in a fresh process reading the same Parquet files with pandas: mlcycle under
this interpreter, Evidently 0.7.23 under ``.venv-evidently`` (Evidently does not import
under pandas 3; ``make bench`` creates that environment with ``pandas<3``). Peak memory is
the process's RSS high-water mark (reset through ``/proc/self/clear_refs`` right before the
report) minus its RSS then. Both sides' verdicts must agree on every column and their
scores within 1e-9; the suite prints the largest difference. ``--quick`` uses 50,000 and
10,000 rows.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import Result, SuiteRun, fmt, log, perf_counter, temp_dir

SUITE = "monitoring"
BENCHMARKS = ("drift_1m", "drift_1m_memory", "drift_100k", "monitor_window")
COLUMNS = 20
SHIFTED = 5
SHIFT = 0.5
_MIB = 1 << 20
_ROOT = Path(__file__).resolve().parents[1]
EVIDENTLY_PYTHON = Path(
    os.environ.get("MLCYCLE_BENCH_EVIDENTLY_PYTHON", _ROOT / ".venv-evidently" / "bin" / "python")
)
_EVIDENTLY_SCRIPT = Path(__file__).with_name("monitoring_evidently.py")
#: Evidently's display names of its methods -> mlcycle's method names.
_EVIDENTLY_METHODS = {
    "K-S p_value": "ks",
    "chi-square p_value": "chisquare",
    "Z-test p_value": "z",
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "PSI": "psi",
    "Kullback-Leibler divergence": "kl_div",
}


@dataclass(frozen=True)
class Sizes:
    large: int
    small: int
    reps_large: int
    reps_small: int


DEFAULT = Sizes(large=1_000_000, small=100_000, reps_large=5, reps_small=15)
QUICK = Sizes(large=50_000, small=10_000, reps_large=3, reps_small=5)


def write_tables(folder: Path, rows: int, seed: int = 7) -> tuple[Path, Path]:
    """Reference and current Parquet files of ``rows`` x 20 standard normal columns, the
    current one shifted by +0.5 on its first 5 columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = [f"f{i:02d}" for i in range(COLUMNS)]
    reference = pd.DataFrame({n: rng.standard_normal(rows) for n in names})
    current = pd.DataFrame(
        {
            n: rng.standard_normal(rows) + (SHIFT if i < SHIFTED else 0.0)
            for i, n in enumerate(names)
        }
    )
    paths = folder / f"reference-{rows}.parquet", folder / f"current-{rows}.parquet"
    reference.to_parquet(paths[0], index=False)
    current.to_parquet(paths[1], index=False)
    return paths


# --- memory: the high-water mark of this process's RSS (Linux), reset before a run ------


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_bytes() -> int:
    kib = _status_kib("VmHWM:")
    return (
        kib * 1024 if kib is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )


def _child(reference_path: str, current_path: str, repeats: int) -> dict[str, Any]:
    """Runs in a fresh process: read both tables, report ``repeats`` times, measure each."""
    import pandas as pd

    from mlcycle.monitoring import drift

    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    drift(reference.head(2000), current.head(2000)).to_dict()  # loads SciPy; warms caches
    runs = []
    data: dict[str, Any] = {}
    for _ in range(repeats):
        baseline = (_status_kib("VmRSS:") or 0) * 1024
        exact = _reset_peak()
        cpu = time.process_time()
        started = time.perf_counter()
        data = drift(reference, current).to_dict()
        seconds = time.perf_counter() - started
        runs.append(
            {
                "seconds": seconds,
                "cpu_seconds": time.process_time() - cpu,
                "peak_above_data": _peak_bytes() - baseline,
                "exact_peak": exact,
            }
        )
    columns = {
        name: {"method": c["method"], "score": c["score"], "drifted": c["drifted"]}
        for name, c in data["columns"].items()
    }
    return {"runs": runs, "columns": columns, "share": data["share"], "drifted": data["drifted"]}


def _window_child(reference_path: str, current_path: str, repeats: int) -> dict[str, Any]:
    """Runs in a fresh process: profile the reference once, then report on the window
    ``repeats`` times against the profile; check the report equals the one from the frame."""
    import pandas as pd

    from mlcycle.monitoring import drift
    from mlcycle.monitoring.profile import ReferenceProfile

    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    drift(reference.head(2000), current.head(2000)).to_dict()  # loads SciPy; warms caches
    cpu = time.process_time()
    started = time.perf_counter()
    profile = ReferenceProfile.from_frame(reference)
    profile_s = time.perf_counter() - started
    profile_cpu = time.process_time() - cpu
    runs = []
    data: dict[str, Any] = {}
    for _ in range(repeats):
        cpu = time.process_time()
        started = time.perf_counter()
        data = drift(profile, current).to_dict()
        runs.append(
            {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu}
        )
    same = drift(reference, current).to_dict() == data
    return {
        "runs": runs,
        "profile_seconds": profile_s,
        "profile_cpu_seconds": profile_cpu,
        "same_as_from_frame": same,
    }


def bench_window(folder: Path, rows: int, repeats: int) -> Result:
    paths = write_tables(folder, rows, seed=11)
    try:
        got = _run_json(
            [
                sys.executable,
                "-m",
                "benchmarks.monitoring",
                "--window",
                *map(str, paths),
                str(repeats),
            ],
            "the monitor-window benchmark process",
        )
    finally:
        for path in paths:
            path.unlink()
    seconds = _median([r["seconds"] for r in got["runs"]])
    cpu = _median([r["cpu_seconds"] for r in got["runs"]])
    log(
        f"    reference profiled once in {fmt(got['profile_seconds'])} s (CPU "
        f"{fmt(got['profile_cpu_seconds'])} s); each window: median {fmt(seconds)} s, CPU "
        f"{fmt(cpu)} s; report equals drift(reference, window): "
        f"{'yes' if got['same_as_from_frame'] else 'NO'}"
    )
    if not got["same_as_from_frame"]:
        raise AssertionError("drift against the profile differs from drift against the frame")
    return Result(
        name="monitor_window",
        what=(
            f"one monitor window of {rows:,} rows x {COLUMNS} columns against a cached "
            f"reference profile (CPU {fmt(cpu)} s; profiling the reference once: "
            f"{fmt(got['profile_seconds'])} s)"
        ),
        unit="s",
        value=seconds,
        goal=0.5,
        higher_is_better=False,
        mlflow_note="mlcycle only",
        competitor="Evidently",
        details={"rows": rows, "columns": COLUMNS, **got},
    )


def _run_json(command: list[str], what: str) -> dict[str, Any]:
    out = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure_mlcycle(paths: tuple[Path, Path], repeats: int) -> dict[str, Any]:
    return _run_json(
        [sys.executable, "-m", "benchmarks.monitoring", "--child", *map(str, paths), str(repeats)],
        "the mlcycle benchmark process",
    )


def measure_evidently(paths: tuple[Path, Path], repeats: int) -> dict[str, Any] | None:
    """Evidently's figures, or None when its environment is missing (``make bench``)."""
    if not EVIDENTLY_PYTHON.exists():
        log(f"    Evidently not measured: {EVIDENTLY_PYTHON} is missing (run `make bench`)")
        return None
    return _run_json(
        [str(EVIDENTLY_PYTHON), str(_EVIDENTLY_SCRIPT), *map(str, paths), str(repeats)],
        "Evidently's benchmark process",
    )


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """Method, verdict and score of every column, side by side."""
    differences = []
    max_diff = 0.0
    for name, column in ours["columns"].items():
        other = theirs["columns"].get(name)
        if other is None:
            differences.append(f"{name}: Evidently has no result")
            continue
        method = _EVIDENTLY_METHODS.get(other["method"], other["method"])
        diff = abs(column["score"] - other["score"])
        max_diff = max(max_diff, diff)
        if method != column["method"] or column["drifted"] != other.get("drifted") or diff > 1e-9:
            differences.append(
                f"{name}: mlcycle {column['method']} {column['score']!r} "
                f"drifted={column['drifted']}, Evidently {method} {other['score']!r} "
                f"drifted={other.get('drifted')}"
            )
    return {
        "columns": len(ours["columns"]),
        "same_verdicts_and_scores": not differences,
        "max_score_difference": max_diff,
        "differences": differences,
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def bench_size(folder: Path, rows: int, repeats: int) -> dict[str, Any]:
    started = perf_counter()
    paths = write_tables(folder, rows)
    took = fmt(perf_counter() - started)
    log(f"    {rows:,} rows x {COLUMNS} columns written to Parquet in {took} s")
    ours = measure_mlcycle(paths, repeats)
    seconds = [r["seconds"] for r in ours["runs"]]
    log(
        f"    mlcycle: median {fmt(_median(seconds))} s (min {fmt(min(seconds))}, max "
        f"{fmt(max(seconds))}) over {len(seconds)} reps; CPU "
        f"{fmt(_median([r['cpu_seconds'] for r in ours['runs']]))} s; peak "
        f"{fmt(max(r['peak_above_data'] for r in ours['runs']) / _MIB)} MiB above the data"
    )
    theirs = measure_evidently(paths, 1 if rows >= 1_000_000 else 2)
    check: dict[str, Any] = {}
    if theirs is not None:
        ev_seconds = [r["seconds"] for r in theirs["runs"]]
        log(
            f"    Evidently {theirs['evidently']} (pandas {theirs['pandas']}): "
            f"{fmt(_median(ev_seconds))} s; peak "
            f"{fmt(max(r['peak_above_data'] for r in theirs['runs']) / _MIB)} MiB above the data"
        )
        check = compare(ours, theirs)
        same = "the same" if check["same_verdicts_and_scores"] else "DIFFERENT"
        log(
            f"    verdicts and scores on {check['columns']} columns: {same}; largest score "
            f"difference {check['max_score_difference']:.3g}"
        )
        for line in check["differences"]:
            log(f"      {line}")
    for path in paths:
        path.unlink()
    return {"rows": rows, "mlcycle": ours, "evidently": theirs, "check": check}


def _results(measured: dict[str, Any], name: str, wanted: set[str]) -> list[Result]:
    rows = measured["rows"]
    ours, theirs, check = measured["mlcycle"], measured["evidently"], measured["check"]
    seconds = _median([r["seconds"] for r in ours["runs"]])
    details = {
        "rows": rows,
        "columns": COLUMNS,
        "mlcycle_runs": ours["runs"],
        "evidently_runs": theirs["runs"] if theirs else None,
        "evidently_version": theirs["evidently"] if theirs else None,
        "check": check,
        "drifted_columns": sorted(n for n, c in ours["columns"].items() if c["drifted"]),
    }
    note = "DataDriftPreset, same process layout" if theirs else "not installed (make bench)"
    results = [
        Result(
            name=name,
            what=(
                f"drift report, {rows:,} rows x {COLUMNS} float columns, reference and "
                f"current (CPU {fmt(_median([r['cpu_seconds'] for r in ours['runs']]))} s)"
            ),
            unit="s",
            value=seconds,
            goal=1.5 if rows >= 1_000_000 else 0.1,
            higher_is_better=False,
            mlflow=_median([r["seconds"] for r in theirs["runs"]]) if theirs else None,
            mlflow_note=note,
            competitor="Evidently",
            details=details,
        )
    ]
    if name == "drift_1m":
        results.append(
            Result(
                name="drift_1m_memory",
                what=f"peak RSS above the loaded data during that report ({rows:,} rows)",
                unit="MiB",
                value=max(r["peak_above_data"] for r in ours["runs"]) / _MIB,
                goal=300.0,
                higher_is_better=False,
                mlflow=max(r["peak_above_data"] for r in theirs["runs"]) / _MIB if theirs else None,
                mlflow_note=note,
                competitor="Evidently",
                details=details,
            )
        )
    return [r for r in results if r.name in wanted]


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``monitoring.json``."""
    sizes = QUICK if quick else DEFAULT
    suite = SuiteRun(SUITE, quick=quick)
    wanted = set(BENCHMARKS) if only is None else only & set(BENCHMARKS)
    with temp_dir("monitoring") as folder:
        plan = []
        if wanted & {"drift_1m", "drift_1m_memory"}:
            plan.append(("drift_1m", sizes.large, sizes.reps_large))
        if "drift_100k" in wanted:
            plan.append(("drift_100k", sizes.small, sizes.reps_small))
        for name, rows, repeats in plan:
            log(f"\n-- {name} ({rows:,} rows)")
            try:
                measured = bench_size(folder, rows, repeats)
            except Exception:
                suite.fail(name, traceback.format_exc())
                continue
            for result in _results(measured, name, wanted):
                suite.results.append(result)
                log(result.line())
        if "monitor_window" in wanted:
            suite.record(
                "monitor_window", lambda: bench_window(folder, sizes.large, sizes.reps_large)
            )
    return suite.finish(out_dir)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif len(sys.argv) == 5 and sys.argv[1] == "--window":
        print(json.dumps(_window_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        sys.exit("run the suite with: python -m benchmarks monitoring [--quick]")
