"""Dataset benchmarks for issue 4: register and profile a large Parquet file.

1. ``register``: ``mlcycle.datasets.register`` of 10,000,000 rows x 20 columns (15 numeric,
   5 categorical strings) from a Parquet file: one pass that profiles the data, hashes its
   content and writes it as Parquet under the artifact root. Goal: at most 10 s.
2. ``register_rss``: the peak resident memory above the baseline (the process after
   importing mlcycle, pandas and pyarrow) during that registration. Goal: under 1 GiB; the
   data itself is about 1.6 GB in memory.
3. ``reregister``: registering the same file again (no second copy is written) as a share
   of the first registration's time. Goal: under 25 %.

Each registration runs in a fresh subprocess, so that memory is measured from a clean
baseline (RSS is sampled every 5 ms by a thread). ``--quick`` uses 1,000,000 rows. MLflow
has no content-addressed dataset store with profiles to compare with (``mlflow.data`` logs
metadata about data the user stores elsewhere), so MLflow is not measured here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import (
    Result,
    SuiteRun,
    fmt,
    log,
    perf_counter,
    temp_dir,
)

SUITE = "datasets"
BENCHMARKS = ("register", "register_rss", "reregister")
N_NUMERIC = 15
CATEGORY_SIZES = (5, 20, 100, 1_000, 50)  # distinct values of the 5 categorical columns
_CHUNK_ROWS = 1_000_000
_MIB = 1 << 20
_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Sizes:
    rows: int


DEFAULT = Sizes(rows=10_000_000)
QUICK = Sizes(rows=1_000_000)


def make_parquet(path: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` x 20 columns: floats (some missing), integers and categorical
    strings, one million rows at a time (bounded memory)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    categories = [
        np.array([f"c{j}_{k:04d}" for k in range(size)]) for j, size in enumerate(CATEGORY_SIZES)
    ]
    writer = None
    try:
        for start in range(0, rows, _CHUNK_ROWS):
            n = min(_CHUNK_ROWS, rows - start)
            columns: dict[str, Any] = {}
            for j in range(N_NUMERIC):
                if j % 3 == 0:
                    values = rng.normal(100.0, 15.0, n)
                    values[rng.random(n) < 0.05] = np.nan
                    columns[f"num_{j:02d}"] = values
                elif j % 3 == 1:
                    columns[f"num_{j:02d}"] = rng.integers(0, 1_000, n)
                else:
                    columns[f"num_{j:02d}"] = rng.exponential(3.0, n)
            for j, values in enumerate(categories):
                columns[f"cat_{j}"] = pa.array(values[rng.integers(0, len(values), n)])
            table = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def _child(data: str, store: str, repeats: int) -> dict[str, Any]:
    """Runs in a fresh process: register ``data`` ``repeats`` times, measuring each."""
    import pandas  # noqa: F401 - part of the baseline, as in any user's process
    import psutil
    import pyarrow  # noqa: F401

    import mlcycle
    import mlcycle.datasets as mds

    process = psutil.Process()
    client = mlcycle.Client(f"sqlite:///{store}/mlcycle.db", f"{store}/artifacts")
    mds.list_datasets(client=client)  # opens the store and loads the dataset service
    baseline = process.memory_info().rss
    runs = []
    for _ in range(repeats):
        peak = [baseline]
        done = threading.Event()

        def sample(peak: list[int] = peak, done: threading.Event = done) -> None:
            while not done.is_set():
                peak[0] = max(peak[0], process.memory_info().rss)
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu_before = process.cpu_times()
        started = time.perf_counter()
        version = mds.register("bench", data, client=client)
        seconds = time.perf_counter() - started
        cpu_after = process.cpu_times()
        done.set()
        sampler.join()
        runs.append(
            {
                "seconds": seconds,
                "cpu_seconds": (cpu_after.user - cpu_before.user)
                + (cpu_after.system - cpu_before.system),
                "peak_rss_above_baseline": peak[0] - baseline,
                "version": version.version,
                "digest": version.digest,
                "size_bytes": version.size_bytes,
            }
        )
    files = [p for p in Path(store, "artifacts").rglob("*") if p.is_file()]
    client.close()
    return {"baseline_rss": baseline, "runs": runs, "stored_files": len(files)}


def _measure(data: Path, store: Path, repeats: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.datasets",
            "--child",
            str(data),
            str(store),
            str(repeats),
        ],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the benchmark process failed:\n{out.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_all(sizes: Sizes, only: set[str] | None) -> list[Result]:
    with temp_dir("datasets") as tmp:
        data = tmp / "data.parquet"
        started = perf_counter()
        make_parquet(data, sizes.rows)
        mb = data.stat().st_size / _MIB
        log(
            f"    generated {sizes.rows:,} rows x 20 columns: {fmt(mb)} MiB of Parquet "
            f"in {fmt(perf_counter() - started)} s"
        )
        wanted = set(BENCHMARKS) if only is None else only & set(BENCHMARKS)
        repeats = 2 if "reregister" in wanted else 1
        measured = _measure(data, tmp / "store", repeats)
    first = measured["runs"][0]
    details = {
        "rows": sizes.rows,
        "columns": 20,
        "parquet_mib": mb,
        "baseline_rss_mib": measured["baseline_rss"] / _MIB,
        "stored_mib": first["size_bytes"] / _MIB,
        "stored_files": measured["stored_files"],
        "rows_per_s": sizes.rows / first["seconds"],
        "cpu_seconds": first["cpu_seconds"],
    }
    results = [
        Result(
            name="register",
            what=f"register + profile {sizes.rows:,} rows x 20 columns from Parquet",
            unit="s",
            value=first["seconds"],
            goal=10.0,
            higher_is_better=False,
            mlflow_note="no comparable feature",
            details=details,
        ),
        Result(
            name="register_rss",
            what="peak RSS above the baseline while registering",
            unit="MiB",
            value=first["peak_rss_above_baseline"] / _MIB,
            goal=1024.0,
            higher_is_better=False,
            mlflow_note="no comparable feature",
            details=details,
        ),
    ]
    if repeats == 2:
        again = measured["runs"][1]
        ratio = again["seconds"] / first["seconds"]
        results.append(
            Result(
                name="reregister",
                what="re-register the same file, as a share of the first registration's time",
                unit="%",
                value=100.0 * ratio,
                goal=25.0,
                higher_is_better=False,
                mlflow_note="no comparable feature",
                details={
                    **details,
                    "seconds": again["seconds"],
                    "same_version": again["version"] == first["version"],
                    "peak_rss_above_baseline_mib": again["peak_rss_above_baseline"] / _MIB,
                },
            )
        )
    return [r for r in results if r.name in wanted]


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``datasets.json``.

    Returns False when the benchmark raised (its traceback is printed and recorded).
    """
    sizes = QUICK if quick else DEFAULT
    suite = SuiteRun(SUITE, quick=quick)
    log("\n-- register, register_rss, reregister")
    try:
        suite.results.extend(bench_all(sizes, only))
    except Exception:
        suite.fail("register", traceback.format_exc())
    results = suite.results
    for result in results:
        log(result.line())
    if results:
        details = results[0].details
        log(
            f"    ({fmt(details['rows_per_s'])} rows/s, {fmt(details['cpu_seconds'])} CPU seconds; "
            f"stored {fmt(details['stored_mib'])} MiB "
            f"in {details['stored_files']} file(s); baseline RSS "
            f"{fmt(details['baseline_rss_mib'])} MiB)"
        )
    return suite.finish(out_dir)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        sys.exit("run the suite with: python -m benchmarks datasets [--quick]")
