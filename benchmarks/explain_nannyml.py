"""NannyML's side of the ``explain`` suite's CBPE comparison; runs under NannyML's own
interpreter.

``python explain_nannyml.py REFERENCE.parquet ANALYSIS.parquet WINDOW_ROWS`` reads both
tables (columns ``y_pred_proba``, ``y_pred``, ``y_true``), fits ``nannyml.CBPE`` (binary
classification, isotonic calibration, its defaults) on the reference, estimates the
analysis table in chunks of ``WINDOW_ROWS`` rows, and prints one JSON line: the seconds of
the fit and of the estimate, and per metric and chunk the estimate, its sampling error and
its confidence band (NannyML's: the estimate plus or minus three sampling errors).

It imports nothing from mlcycle or the benchmark package: NannyML 0.13 needs pandas < 3
(and statsmodels, which it does not declare), so it lives in a virtual environment of its
own (``make bench`` creates ``.venv-nannyml``).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def main(reference_path: str, analysis_path: str, window: int) -> dict[str, Any]:
    import nannyml
    import pandas as pd

    reference = pd.read_parquet(reference_path)
    analysis = pd.read_parquet(analysis_path)
    estimator = nannyml.CBPE(
        y_pred_proba="y_pred_proba",
        y_pred="y_pred",
        y_true="y_true",
        problem_type="classification_binary",
        metrics=list(METRICS),
        chunk_size=window,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the resulting number of chunks is too low"
        started = time.perf_counter()
        estimator.fit(reference)
        fitted = time.perf_counter()
        results = estimator.estimate(analysis.drop(columns=["y_true"]))
        done = time.perf_counter()
    frame = results.filter(period="analysis").to_df()
    found: dict[str, Any] = {}
    for metric in METRICS:
        found[metric] = {
            key: [float(v) for v in frame[(metric, column)]]
            for key, column in (
                ("value", "value"),
                ("sampling_error", "sampling_error"),
                ("low", "lower_confidence_boundary"),
                ("high", "upper_confidence_boundary"),
            )
        }
    return {
        "nannyml": nannyml.__version__,
        "pandas": pd.__version__,
        "fit_seconds": fitted - started,
        "estimate_seconds": done - fitted,
        "chunks": len(frame),
        "metrics": found,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
