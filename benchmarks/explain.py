"""Explanation and label-free performance benchmarks (issue 18).

1. ``permutation_importance``: mlcycle's permutation importance (ROC AUC, 5 repeats) of a
   ``HistGradientBoostingClassifier`` on 100,000 rows x 20 features, against scikit-learn's
   ``permutation_importance`` on the same model, data and seed, each the median of
   repetitions, both with one native thread. The figure is the ratio of the two times;
   goal at most 1.2. The importances must be equal (checked, largest difference printed).
2. ``explain_p99``: ``mlcycle serve`` of an XGBoost classifier (100 trees, 20 features);
   one-row ``POST /v2/models/{name}/explain`` requests at concurrency 8 (asyncio + httpx)
   for a fixed time after a warm-up; the p99 latency, client side. Goal under 20 ms.
   Latency on a shared machine follows its load, so the details also hold the server's
   CPU time per request (load-independent), the load average, and the p50/p99 of the
   same rows through ``/infer`` in the same run (answering without explaining).
3. ``cbpe_1m``: ``CBPE.estimate`` of a 1,000,000-row window (calibrated on 50,000 reference
   rows), median of repetitions. Goal under 1 s.

``--quick`` uses 20,000 rows, 3 s of load and a 200,000-row window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import Result, SuiteRun, fmt, log, temp_dir
from benchmarks.serving import BIN, _server

BENCHMARKS = ("permutation_importance", "explain_p99", "cbpe_1m")
CONCURRENCY = 8
FEATURES = 20


def _median_seconds(fn: Any, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _permutation(rows: int, reps: int) -> Result:
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance as sk_permutation
    from threadpoolctl import threadpool_limits

    from mlcycle.evaluation.importance import Scoring, permutation_importance

    X_arr, y = make_classification(rows, FEATURES, n_informative=8, random_state=0)
    X = pd.DataFrame(X_arr, columns=[f"f{i}" for i in range(FEATURES)])
    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X, y)
        baseline = model.predict_proba(X)[:, 1]  # what the evaluation computed already
        scoring = Scoring(metric="roc_auc", y_true=y == 1, positive_index=1)
        found: dict[str, Any] = {}

        def ours() -> None:
            found["ours"] = permutation_importance(
                model, X, scoring, repeats=5, seed=0, baseline_output=baseline
            )

        def theirs() -> None:
            found["theirs"] = sk_permutation(
                model, X, y, scoring="roc_auc", n_repeats=5, random_state=0
            )

        mine = _median_seconds(ours, reps)
        sklearn = _median_seconds(theirs, reps)
    difference = float(np.abs(found["ours"].importances - found["theirs"].importances).max())
    log(f"    mlcycle {fmt(mine)} s, scikit-learn {fmt(sklearn)} s; largest gap {difference:.2g}")
    return Result(
        name="permutation_importance",
        what=f"permutation importance, {rows:,} rows x {FEATURES} features, 5 repeats "
        "(time / scikit-learn's)",
        unit="x",
        value=mine / sklearn,
        goal=1.2,
        higher_is_better=False,
        competitor="scikit-learn",
        details={"mlcycle_s": mine, "sklearn_s": sklearn, "max_difference": difference},
    )


async def _explain_load(url: str, body: bytes, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    failed = 0
    stop = time.perf_counter() + seconds
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def worker() -> None:
            nonlocal failed
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                response = await http.post(url, content=body, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                failed += response.status_code != 200

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return {
        "p99_ms": float(np.percentile(latencies, 99)),
        "p50_ms": float(np.percentile(latencies, 50)),
        "requests": float(len(latencies)),
        "failed": float(failed),
    }


def _server_process(url: str) -> Any:
    """The serving process listening at ``url`` (a child of this one)."""
    import psutil

    port = url.rsplit(":", 1)[1]
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if port in child.cmdline():
                return child
    raise RuntimeError(f"no child process serves {url}")


def _cpu_seconds(process: Any) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _explain_p99(work: Path, seconds: float) -> Result:
    import pandas as pd
    import xgboost as xgb
    from sklearn.datasets import make_classification

    import mlcycle

    X_arr, y = make_classification(5_000, FEATURES, random_state=0)
    columns = [f"f{i}" for i in range(FEATURES)]
    X = pd.DataFrame(X_arr, columns=columns)
    model = xgb.XGBClassifier(n_estimators=100, max_depth=4, n_jobs=1).fit(X, y)
    mlcycle.models.save(model, work / "gbm", input_example=X.head(50))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLCYCLE_")}
    env["MLCYCLE_TRACKING_URI"] = f"sqlite:///{work / 'mlcycle.db'}"
    env["MLCYCLE_ARTIFACT_URI"] = str(work / "artifacts")
    body = json.dumps(
        {"inputs": [{"name": "input", "shape": [1, FEATURES], "datatype": "FP64",
                     "data": X_arr[0].tolist()}]}
    ).encode()  # fmt: skip
    command = [str(BIN / "mlcycle"), "serve", str(work / "gbm"), "--name", "gbm"]
    with _server(command, work / "serve.log", "/ping", env) as url:
        server = _server_process(url)
        target = f"{url}/v2/models/gbm/explain"
        first = httpx.post(target, content=body, timeout=120)  # builds the explainer
        first.raise_for_status()
        asyncio.run(_explain_load(target, body, 2.0))  # warm-up under load
        before = _cpu_seconds(server)
        load = asyncio.run(_explain_load(target, body, seconds))
        load["server_cpu_ms_per_request"] = (_cpu_seconds(server) - before) / load["requests"] * 1e3
        load["load_average_1m"] = os.getloadavg()[0]
        # the same rows through /infer, same load: what answering costs without explaining
        infer = asyncio.run(_explain_load(f"{url}/v2/models/gbm/infer", body, seconds))
        load["infer_p50_ms"], load["infer_p99_ms"] = infer["p50_ms"], infer["p99_ms"]
    log(
        f"    p50 {fmt(load['p50_ms'])} ms, p99 {fmt(load['p99_ms'])} ms, "
        f"{int(load['failed'])} failed of {int(load['requests'])}; server CPU "
        f"{fmt(load['server_cpu_ms_per_request'])} ms a request; /infer of the same rows: "
        f"p50 {fmt(infer['p50_ms'])} ms, p99 {fmt(infer['p99_ms'])} ms; "
        f"load average {load['load_average_1m']:.1f} on {os.cpu_count()} CPUs"
    )
    return Result(
        name="explain_p99",
        what=f"p99 of one-row /explain requests (XGBoost, 100 trees) at concurrency {CONCURRENCY}",
        unit="ms",
        value=load["p99_ms"],
        goal=20,
        higher_is_better=False,
        competitor="(none)",
        details=load,
    )


def _cbpe(rows: int, reps: int) -> Result:
    from mlcycle.monitoring.estimation import CBPE

    rng = np.random.default_rng(0)
    reference = rng.random(50_000)
    labels = rng.random(50_000) < reference
    cbpe = CBPE().fit(reference, labels)
    window = rng.beta(2, 3, rows)
    seconds = _median_seconds(lambda: cbpe.estimate(window), reps)
    return Result(
        name="cbpe_1m",
        what=f"CBPE estimate (accuracy, precision, recall, F1, ROC AUC) of a {rows:,}-row window",
        unit="s",
        value=seconds,
        goal=1.0,
        higher_is_better=False,
        competitor="(none)",
    )


def run(*, quick: bool, out_dir: Path, only: set[str] | None = None) -> bool:
    suite = SuiteRun("explain", quick=quick)

    def want(name: str) -> bool:
        return only is None or name in only

    if want("permutation_importance"):
        rows = 20_000 if quick else 100_000
        suite.record("permutation_importance", lambda: _permutation(rows, 1 if quick else 3))
    if want("explain_p99"):
        with temp_dir("explain") as work:
            suite.record("explain_p99", lambda: _explain_p99(work, 3.0 if quick else 10.0))
    if want("cbpe_1m"):
        rows = 200_000 if quick else 1_000_000
        suite.record("cbpe_1m", lambda: _cbpe(rows, 3 if quick else 5))
    return suite.finish(out_dir)


if __name__ == "__main__":
    sys.exit("run the suite with: python -m benchmarks explain [--quick]")
