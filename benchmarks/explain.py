"""Explanation and label-free performance benchmarks (issue 18).

1. ``permutation_importance``: mlcycle's permutation importance (ROC AUC, 5 repeats) of a
   ``HistGradientBoostingClassifier`` on 100,000 rows x 20 features, against scikit-learn's
   ``permutation_importance`` on the same model, data and seed, each the median of
   repetitions, both with one native thread. The figure is the ratio of the two times;
   goal at most 1.2. The importances must be equal (checked, largest difference printed).
2. ``explain_p99``: ``mlcycle serve`` of an XGBoost classifier (100 trees, 20 features);
   one-row ``POST /v2/models/{name}/explain`` requests at concurrency 8 for a fixed time
   after a warm-up, from the serving suite's load generator (wrk when installed, else
   asyncio + httpx, which takes a larger share of the CPUs); the p99 latency, client
   side. Goal under 20 ms.
   Latency on a shared machine follows its load, so the details also hold the server's
   CPU time per request (load-independent), the load average, and the p50/p99 of the
   same rows through ``/infer`` in the same run (answering without explaining).
3. ``cbpe_1m``: ``CBPE.estimate`` of a 1,000,000-row window (calibrated on 50,000 reference
   rows), median of repetitions. Goal under 1 s.

4. ``cbpe_vs_nannyml``: mlcycle's CBPE and NannyML's (0.13, from ``.venv-nannyml``, its
   defaults) on the same seeded covariate shift with known truth: a logistic regression,
   5,000 labelled reference rows, 100 windows of 2,000 rows whose first feature's mean
   moves from -2 to +2 (the label's law given the features stays). Three figures, NannyML's
   beside each: ``cbpe_error``, the mean absolute error of the estimate against the
   realised metric over accuracy, precision, recall, F1 and ROC AUC (goal 0.02);
   ``cbpe_coverage``, the share of windows whose realised metric lies in the 95% interval,
   worst metric (goal 90%; NannyML's is estimate +- 1.96 of its sampling errors, and the
   details also hold its own +-3 band); ``cbpe_seconds``, fitting and estimating every
   window (goal 1 s).

``--quick`` uses 20,000 rows, 3 s of load, a 200,000-row window and 40 CBPE windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import Result, SuiteRun, fmt, log, temp_dir
from benchmarks.serving import BIN, _load, _measure, _server, _wrk_available

BENCHMARKS = ("permutation_importance", "explain_p99", "cbpe_1m", "cbpe_vs_nannyml")
CONCURRENCY = 8
FEATURES = 20
WINDOW_ROWS = 2_000
_ROOT = Path(__file__).resolve().parents[1]
NANNYML_PYTHON = Path(
    os.environ.get("MLCYCLE_BENCH_NANNYML_PYTHON", _ROOT / ".venv-nannyml" / "bin" / "python")
)
_NANNYML_SCRIPT = Path(__file__).with_name("explain_nannyml.py")


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


def _server_process(url: str) -> Any:
    """The serving process listening at ``url`` (a child of this one)."""
    import psutil

    port = url.rsplit(":", 1)[1]
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if port in child.cmdline():
                return child
    raise RuntimeError(f"no child process serves {url}")


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
        _load(target, body, 2.0, work, concurrency=CONCURRENCY)  # warm-up under load
        load = _measure(target, body, seconds, work, server.pid, concurrency=CONCURRENCY)
        load["server_cpu_ms_per_request"] = load["server_cpu_us"] / 1e3
        load["load_average_1m"] = os.getloadavg()[0]
        # the same rows through /infer, same load: what answering costs without explaining
        infer = _load(f"{url}/v2/models/gbm/infer", body, seconds, work, concurrency=CONCURRENCY)
        load["infer_p50_ms"], load["infer_p99_ms"] = infer["p50_ms"], infer["p99_ms"]
    log(
        f"    p50 {fmt(load['p50_ms'])} ms, p99 {fmt(load['p99_ms'])} ms, "
        f"{int(load['failed'])} failed of {int(load['requests'])}; server CPU "
        f"{fmt(load['server_cpu_ms_per_request'])} ms a request; /infer of the same rows: "
        f"p50 {fmt(infer['p50_ms'])} ms, p99 {fmt(infer['p99_ms'])} ms; "
        f"load average {load['load_average_1m']:.1f} on {os.cpu_count()} CPUs; "
        f"load generator {'wrk' if _wrk_available() else 'Python'}, "
        f"{fmt(load['generator_cpu_us'])} us of its CPU a request"
    )
    load["wrk"] = float(_wrk_available())
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


def _shifted_window(
    n: int, shift: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Covariate shift with known truth (the monitoring tests' data): the first feature's
    mean moves, the label's law given the features stays."""
    X = rng.normal(size=(n, 3))
    X[:, 0] += shift
    logit = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.5 * X[:, 2]
    return X, rng.random(n) < 1.0 / (1.0 + np.exp(-logit))


def _nannyml(work: Path, reference: Any, analysis: Any, window: int) -> dict[str, Any] | None:
    """NannyML's figures, or None when its environment is missing (``make bench``)."""
    if not NANNYML_PYTHON.exists():
        log(f"    NannyML not measured: {NANNYML_PYTHON} is missing (run `make bench`)")
        return None
    paths = (work / "reference.parquet", work / "analysis.parquet")
    reference.to_parquet(paths[0])
    analysis.to_parquet(paths[1])
    # -P: the script's folder stays off sys.path, so no benchmark module can shadow a
    # standard-library module in NannyML's process
    command = [str(NANNYML_PYTHON), "-P", str(_NANNYML_SCRIPT), *map(str, paths), str(window)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"NannyML's benchmark process failed:\n{out.stderr[-4000:]}")
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return found


def _cbpe_vs_nannyml(work: Path, windows: int) -> list[Result]:
    """Both CBPEs on the same seeded windows: how close the estimate is to the realised
    metric, how often the interval holds it, and the time to fit and estimate."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from mlcycle.monitoring.estimation import CBPE, CLASSIFICATION_METRICS, realised_classification

    rng = np.random.default_rng(42)
    X, y = _shifted_window(5_000, 0.0, rng)
    model = LogisticRegression().fit(X, y)
    X_ref, y_ref = _shifted_window(5_000, 0.0, rng)
    ref_proba = model.predict_proba(X_ref)[:, 1]
    parts = []
    for w in range(windows):
        X_w, y_w = _shifted_window(WINDOW_ROWS, -2.0 + 4.0 * w / windows, rng)
        parts.append((model.predict_proba(X_w)[:, 1], y_w))
    realised = [realised_classification(y_w, p) for p, y_w in parts]

    started = time.perf_counter()
    cbpe = CBPE().fit(ref_proba, y_ref, ref_proba >= 0.5)
    ours = [cbpe.estimate(p, p >= 0.5) for p, _ in parts]
    our_seconds = time.perf_counter() - started

    def table(proba: np.ndarray, labels: np.ndarray) -> Any:
        return pd.DataFrame(
            {"y_pred_proba": proba, "y_pred": (proba >= 0.5).astype(int), "y_true": labels}
        ).astype({"y_true": int})

    analysis = pd.concat([table(p, y_w) for p, y_w in parts], ignore_index=True)
    theirs = _nannyml(work, table(ref_proba, y_ref), analysis, WINDOW_ROWS)

    metrics = list(CLASSIFICATION_METRICS)
    details: dict[str, Any] = {"windows": windows, "window_rows": WINDOW_ROWS, "metrics": {}}
    for name in metrics:
        truth = np.array([r[name] for r in realised])
        value = np.array([e[name].value for e in ours])
        low = np.array([e[name].low for e in ours])
        high = np.array([e[name].high for e in ours])
        row: dict[str, Any] = {
            "mlcycle_mean_abs_error": float(np.mean(np.abs(value - truth))),
            "mlcycle_coverage_95": float(np.mean((low <= truth) & (truth <= high))),
            "mlcycle_mean_width_95": float(np.mean(high - low)),
        }
        if theirs is not None:
            found = theirs["metrics"][name]
            t_value = np.array(found["value"])
            t_error = np.array(found["sampling_error"])
            t_low, t_high = np.array(found["low"]), np.array(found["high"])
            row.update(
                nannyml_mean_abs_error=float(np.mean(np.abs(t_value - truth))),
                nannyml_coverage_band=float(np.mean((t_low <= truth) & (truth <= t_high))),
                nannyml_mean_width_band=float(np.mean(t_high - t_low)),
                nannyml_coverage_95=float(np.mean(np.abs(truth - t_value) <= 1.959964 * t_error)),
                nannyml_mean_width_95=float(np.mean(2 * 1.959964 * t_error)),
            )
        details["metrics"][name] = row
    rows = details["metrics"]
    error = float(np.mean([r["mlcycle_mean_abs_error"] for r in rows.values()]))
    coverage = min(r["mlcycle_coverage_95"] for r in rows.values())
    their_error = their_coverage = their_seconds = None
    if theirs is not None:
        their_error = float(np.mean([r["nannyml_mean_abs_error"] for r in rows.values()]))
        their_coverage = min(r["nannyml_coverage_95"] for r in rows.values())
        their_seconds = theirs["fit_seconds"] + theirs["estimate_seconds"]
        details.update(
            nannyml=theirs["nannyml"],
            nannyml_pandas=theirs["pandas"],
            nannyml_fit_s=theirs["fit_seconds"],
            nannyml_estimate_s=theirs["estimate_seconds"],
        )
    details["mlcycle_s"] = our_seconds
    for name, row in rows.items():
        text = (
            f"    {name:9s} mean |error| mlcycle {row['mlcycle_mean_abs_error']:.4f}"
            f", 95% coverage {row['mlcycle_coverage_95']:.0%}"
            f" (width {row['mlcycle_mean_width_95']:.3f})"
        )
        if theirs is not None:
            text += (
                f" | NannyML {row['nannyml_mean_abs_error']:.4f}"
                f", 95% coverage {row['nannyml_coverage_95']:.0%}"
                f" (width {row['nannyml_mean_width_95']:.3f})"
                f", its +-3 sigma band {row['nannyml_coverage_band']:.0%}"
            )
        log(text)
    if their_seconds is not None:
        log(
            f"    fit + {windows} windows: mlcycle {fmt(our_seconds)} s, NannyML "
            f"{fmt(their_seconds)} s (NannyML {theirs['nannyml'] if theirs else ''})"
        )
    what = f"{windows} shifted windows of {WINDOW_ROWS:,} rows (known truth)"
    note = "" if theirs is not None else "not installed (make bench creates .venv-nannyml)"
    return [
        Result(
            name="cbpe_error",
            what=f"CBPE mean |estimate - realised| over 5 metrics, {what}",
            unit="",
            value=error,
            goal=0.02,
            higher_is_better=False,
            mlflow=their_error,
            mlflow_note=note,
            competitor="NannyML",
            details=details,
            words=("closer", "further off"),
        ),
        Result(
            name="cbpe_coverage",
            what=f"CBPE: share of windows whose realised metric is in the 95% interval "
            f"(worst of 5 metrics), {what}",
            unit="%",
            value=100 * coverage,
            goal=90,
            higher_is_better=True,
            mlflow=None if their_coverage is None else 100 * their_coverage,
            mlflow_note=note,
            competitor="NannyML",
            words=("more often right", "less often right"),
        ),
        Result(
            name="cbpe_seconds",
            what=f"CBPE fit on 5,000 reference rows and estimate of {what}",
            unit="s",
            value=our_seconds,
            goal=1.0,
            higher_is_better=False,
            mlflow=their_seconds,
            mlflow_note=note,
            competitor="NannyML",
        ),
    ]


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
    if want("cbpe_vs_nannyml"):
        with temp_dir("nannyml") as work:
            found: list[Result] = []

            def compared() -> Result:  # three figures from one run: the first is recorded
                found.extend(_cbpe_vs_nannyml(work, 40 if quick else 100))
                return found[0]

            suite.record("cbpe_vs_nannyml", compared)
            for result in found[1:]:
                suite.results.append(result)
                log(result.line())
    return suite.finish(out_dir)


if __name__ == "__main__":
    sys.exit("run the suite with: python -m benchmarks explain [--quick]")
