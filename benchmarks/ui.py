"""The web UI: the runs table's first page over many runs with many metric keys, chart
buckets of a 10 M-point metric, and the runs page's weight (HTML + scripts + styles).

Server times are taken in the server process around the page or endpoint function's
work (store query + rendering), over a real SQLite store; the page weight is what a cold
browser downloads for the runs page.
"""

from __future__ import annotations

import re
import statistics
import sys
import traceback
from pathlib import Path

import httpx
import numpy as np
from tests.server.live import ThreadServer  # the test suite's in-thread uvicorn

from benchmarks._common import Result, SuiteRun, log, perf_counter, temp_dir
from mlcycle.artifacts.local import LocalArtifactStore
from mlcycle.entities import MetricBatch, MetricHistory
from mlcycle.server.ui.buckets import Series, bucketize
from mlcycle.settings import Settings
from mlcycle.store.sql.store import open_store
from mlcycle.tracking.service import TrackingService

SUITE = "ui"
BENCHMARKS = ("runs_table_first_page", "chart_buckets_10m", "runs_page_weight")


def _seed(root: Path, runs: int, keys: int) -> tuple[Settings, str]:
    settings = Settings.from_env(
        {
            "MLCYCLE_TRACKING_URI": f"sqlite:///{root / 'ui.db'}",
            "MLCYCLE_ARTIFACT_URI": str(root / "artifacts"),
        }
    )
    store = open_store(settings.tracking_uri)
    try:
        tracking = TrackingService(store, LocalArtifactStore(settings.artifact_uri))
        exp = tracking.create_experiment("bench")
        one = np.zeros(1, np.int64)
        for i in range(runs):
            run = tracking.create_run(exp.id, name=f"r{i}")
            tracking.log_params(run.id, {"lr": i % 7, "model": ("rf", "gbm")[i % 2]})
            tracking.log_metrics(
                run.id,
                [
                    MetricBatch(key=f"m{k}", steps=one, timestamps=one, values=np.array([i * k]))
                    for k in range(keys)
                ],
            )
            tracking.end_run(run.id)
    finally:
        store.close()
    return settings, exp.id


def _serve(settings: Settings) -> tuple[str, object]:
    server = ThreadServer(settings)
    server.__enter__()
    return server.url, server


def _median_ms(call: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = perf_counter()
        call()  # type: ignore[operator]
        times.append((perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_table(root: Path, runs: int, keys: int, repeats: int) -> tuple[float, int]:
    settings, experiment_id = _seed(root, runs, keys)
    url, server = _serve(settings)
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            page = f"/experiments/{experiment_id}"
            client.get(page).raise_for_status()  # warm up
            ms = _median_ms(lambda: client.get(page).raise_for_status(), repeats)
            weight = len(client.get(page).content)
            for asset in re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', client.get(page).text):
                weight += len(client.get(asset).content)
    finally:
        server.__exit__(None, None, None)  # type: ignore[attr-defined]
    return ms, weight


def bench_buckets(points: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    steps = np.arange(points, dtype=np.int64)
    series = Series(
        MetricHistory(
            run_id="r", key="loss", steps=steps, timestamps=steps, values=rng.normal(size=points)
        )
    )
    return _median_ms(lambda: bucketize(series, buckets=1000), repeats)


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    """Run the suite; print each result and a summary table; write ``ui.json``."""
    suite = SuiteRun(SUITE, quick=quick)
    wanted = set(BENCHMARKS) if only is None else only & set(BENCHMARKS)
    runs, keys, points = (300, 20, 1_000_000) if quick else (10_000, 100, 10_000_000)
    if wanted & {"runs_table_first_page", "runs_page_weight"}:
        log(f"\n-- runs table ({runs:,} runs x {keys} metric keys)")
        try:
            with temp_dir("ui") as folder:
                ms, weight = bench_table(folder, runs, keys, 5 if quick else 20)
            suite.results.append(
                Result(
                    "runs_table_first_page",
                    f"runs page, first 50 of {runs:,} runs x {keys} keys",
                    "ms",
                    ms,
                    150.0,
                    False,
                    details={"runs": runs, "keys": keys},
                )
            )
            suite.results.append(
                Result(
                    "runs_page_weight",
                    "runs page cold: HTML + scripts + styles",
                    "KiB",
                    weight / 1024,
                    200 * 1000 / 1024,
                    False,
                )
            )
            for result in suite.results[-2:]:
                log(result.line())
        except Exception:
            suite.fail("runs_table_first_page", traceback.format_exc())
    if "chart_buckets_10m" in wanted:
        log(f"\n-- chart buckets ({points:,} points)")
        try:
            ms = bench_buckets(points, 20)
            result = Result(
                "chart_buckets_10m",
                f"1,000 buckets of a {points:,}-point metric",
                "ms",
                ms,
                30.0,
                False,
                details={"points": points},
            )
            suite.results.append(result)
            log(result.line())
        except Exception:
            suite.fail("chart_buckets_10m", traceback.format_exc())
    return suite.finish(out_dir)


if __name__ == "__main__":
    sys.exit("run the suite with: python -m benchmarks ui [--quick]")
