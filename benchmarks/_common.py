"""Shared pieces of the benchmark suites: results, timing, formatting, temp dirs, JSON."""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

perf_counter = time.perf_counter


@dataclass
class Result:
    """One benchmark's outcome: the mlcycle figure against its goal and MLflow's figure."""

    name: str
    what: str
    unit: str
    value: float
    goal: float
    higher_is_better: bool
    mlflow: float | None = None
    mlflow_note: str = ""
    #: Who ``mlflow`` and ``mlflow_note`` measure (a suite may compare with another tool).
    competitor: str = "MLflow"
    details: dict[str, Any] = field(default_factory=dict)
    #: The words of the ratio ("better", "worse") when not a time or a size ("closer",
    #: "further" for an error, say).
    words: tuple[str, str] | None = None

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    @property
    def ratio(self) -> float | None:
        """How many times better mlcycle is than MLflow (above 1: mlcycle is better)."""
        if self.mlflow is None or self.mlflow <= 0 or self.value <= 0:
            return None
        return self.value / self.mlflow if self.higher_is_better else self.mlflow / self.value

    @property
    def better_word(self) -> str:
        if self.words is not None:
            return self.words[0]
        return "smaller" if "byte" in self.unit or self.unit in ("KiB", "MiB", "GiB") else "faster"

    def goal_text(self) -> str:
        return f"{'>=' if self.higher_is_better else '<='} {fmt(self.goal)} {self.unit}"

    def ratio_text(self) -> str:
        ratio = self.ratio
        if ratio is None:
            return "n/a"
        if ratio >= 1:
            return f"{fmt(ratio)}x {self.better_word}"
        if self.words is not None:
            return f"{fmt(1 / ratio)}x {self.words[1]}"
        word = "slower" if self.better_word == "faster" else "larger"
        return f"{fmt(1 / ratio)}x {word}"

    def line(self) -> str:
        note = f" ({self.mlflow_note})" if self.mlflow_note else ""
        if self.mlflow is not None:
            mlflow = f"{self.competitor} {fmt(self.mlflow)} {self.unit}{note}"
        else:
            mlflow = f"{self.competitor} not measured{note}"
        return (
            f"[{self.name}] {self.what}\n"
            f"    mlcycle {fmt(self.value)} {self.unit} | goal {self.goal_text()}: "
            f"{'MET' if self.met else 'MISSED'} | {mlflow} | "
            f"mlcycle vs {self.competitor}: {self.ratio_text()}"
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["met"] = self.met
        data["ratio_vs_mlflow"] = self.ratio
        return data


def fmt(x: float) -> str:
    """A number for humans: thousands separators for big ones, 3 significant digits else."""
    if not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class Timing:
    """Repeated wall-clock measurements of one operation, in milliseconds."""

    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def min(self) -> float:
        return min(self.samples_ms)

    @property
    def max(self) -> float:
        return max(self.samples_ms)

    def summary(self) -> dict[str, Any]:
        return {
            "median_ms": self.median,
            "min_ms": self.min,
            "max_ms": self.max,
            "reps": len(self.samples_ms),
        }

    def text(self) -> str:
        return (
            f"median {fmt(self.median)} ms, min {fmt(self.min)} ms, max {fmt(self.max)} ms "
            f"over {len(self.samples_ms)} reps"
        )


def repeat(
    fn: Callable[[], object],
    *,
    warmup: int = 1,
    min_reps: int = 3,
    max_reps: int = 20,
    budget_s: float = 5.0,
) -> Timing:
    """Time ``fn`` after ``warmup`` calls: at least ``min_reps`` times, then more while the
    time budget lasts, up to ``max_reps``."""
    for _ in range(warmup):
        fn()
    gc.collect()
    samples: list[float] = []
    started = perf_counter()
    while len(samples) < max_reps and (
        len(samples) < min_reps or perf_counter() - started < budget_s
    ):
        t0 = perf_counter()
        fn()
        samples.append((perf_counter() - t0) * 1000.0)
    return Timing(samples)


def cpu_ms(fn: Callable[[], object], *, reps: int = 15, warmup: int = 1) -> float:
    """The median CPU time of ``fn`` in this process (``time.process_time``), in ms: less
    skewed than wall-clock time by other work on a busy machine (it still counts cache and
    hyper-thread contention)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        samples.append((time.process_time() - t0) * 1000.0)
    return statistics.median(samples)


@contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory under the system temp dir, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"mlcycle-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sqlite_bytes(db_path: Path) -> tuple[int, dict[str, int]]:
    """Checkpoint the WAL into the database (``PRAGMA wal_checkpoint(TRUNCATE)``), then
    return the size of the database plus its -wal file, and the checkpoint's result."""
    con = sqlite3.connect(db_path)
    try:
        busy, wal_pages, moved = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.close()
    total = 0
    for suffix in ("", "-wal"):
        part = Path(f"{db_path}{suffix}")
        if part.exists():
            total += part.stat().st_size
    return total, {"busy": busy, "wal_pages": wal_pages, "checkpointed": moved}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "mlcycle": _version("mlcycle"),
        "mlflow": _version("mlflow"),
        "numpy": _version("numpy"),
        "sqlalchemy": _version("sqlalchemy"),
        "load_average": load_average(),
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: other work on the machine skews timings."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def print_table(results: Sequence[Result]) -> None:
    """The final summary: one row per benchmark."""
    rival = {r.competitor for r in results}
    other = rival.pop() if len(rival) == 1 else "peer"
    named = other == "peer"  # several peers: each row names its own
    header = ("benchmark", "mlcycle", "goal", "met", other, f"vs {other}")
    rows = [
        (
            r.name,
            f"{fmt(r.value)} {r.unit}",
            r.goal_text(),
            "yes" if r.met else "NO",
            (f"{r.competitor} " if named else "") + f"{fmt(r.mlflow)} {r.unit}"
            if r.mlflow is not None
            else "-",
            r.ratio_text(),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "-+-".join("-" * w for w in widths)
    log(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    log(rule)
    for row in rows:
        log(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def write_json(
    path: Path,
    *,
    suite: str,
    quick: bool,
    started: float,
    duration_s: float,
    results: Sequence[Result],
    errors: dict[str, str],
    load_average_at_start: list[float],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "suite": suite,
        "quick": quick,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat(),
        "duration_s": round(duration_s, 3),
        "machine": machine(),
        "load_average_at_start": load_average_at_start,
        "results": [r.to_json() for r in results],
        "errors": errors,
    }
    path.write_text(json.dumps(payload, indent=2, default=_json_default) + "\n")


def _json_default(value: object) -> object:
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


class SuiteRun:
    """One run of a suite: the header line, each benchmark recorded with its timing and
    load, then the summary table and ``<suite>.json``. Every suite's ``run`` uses it."""

    def __init__(self, suite: str, *, quick: bool) -> None:
        self.suite = suite
        self.quick = quick
        self.info = machine()
        self.results: list[Result] = []
        self.errors: dict[str, str] = {}
        self._started_wall = time.time()
        self._started = time.perf_counter()
        mlflow = f"MLflow {self.info['mlflow']}, " if self.info["mlflow"] else ""
        log(
            f"== suite {suite}{' (quick)' if quick else ''}: mlcycle {self.info['mlcycle']}, "
            f"{mlflow}Python {self.info['python']}, SQLite {self.info['sqlite']}, "
            f"{self.info['cpus']} CPUs; load average {self.info['load_average']}"
        )

    def record(self, name: str, bench: Callable[[], Result]) -> None:
        """Run one benchmark; a failure is printed and recorded, not raised."""
        load = load_average()
        log(f"\n-- {name} (load average {load})")
        t0 = time.perf_counter()
        try:
            result = bench()
        except Exception:
            self.fail(name, traceback.format_exc())
            return
        result.details["benchmark_s"] = time.perf_counter() - t0
        result.details["load_average_before"] = load
        result.details["load_average_after"] = load_average()
        self.results.append(result)
        log(result.line())
        log(f"    ({result.details['benchmark_s']:.1f} s)")

    def fail(self, name: str, trace: str) -> None:
        self.errors[name] = trace
        log(f"    {name} FAILED:\n{trace}")

    def finish(self, out_dir: Path) -> bool:
        """Print the summary, write the JSON; False when any benchmark failed."""
        duration = time.perf_counter() - self._started
        log(f"\n== {self.suite} summary ({duration:.0f} s; load average now {load_average()})")
        print_table(self.results)
        for name in self.errors:
            log(f"{name}: FAILED (see above)")
        path = out_dir / f"{self.suite}.json"
        write_json(
            path,
            suite=self.suite,
            quick=self.quick,
            started=self._started_wall,
            duration_s=duration,
            results=self.results,
            errors=self.errors,
            load_average_at_start=self.info["load_average"],
        )
        log(f"wrote {path}")
        return not self.errors


def run_benches(
    suite_name: str,
    benches: Mapping[str, Callable[[Any], Result]],
    sizes: Any,
    *,
    quick: bool,
    out_dir: Path,
    only: set[str] | None,
) -> bool:
    """Run ``benches`` (name -> bench taking ``sizes``), the ones in ``only`` when given;
    print each result and the summary; write ``<suite_name>.json``. False on a failure."""
    suite = SuiteRun(suite_name, quick=quick)
    for name, bench in benches.items():
        if only is None or name in only:
            suite.record(name, partial(bench, sizes))
    return suite.finish(out_dir)
