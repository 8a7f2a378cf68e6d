"""Performance from delayed labels: predictions joined with feedback by request ID, the
task's metrics (equal to scikit-learn's), and the comparison with the baseline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, log_loss, mean_absolute_error, roc_auc_score

from mlcycle.entities import Direction, Feedback, Problem, Task
from mlcycle.monitoring.performance import join_labels, metric_drop, performance

CLASSIFY = Problem(task=Task.CLASSIFICATION, target="y", primary_metric="roc_auc")


def _log(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    p1 = np.clip(truth * 0.6 + rng.uniform(0, 0.4, n), 0, 1)
    frame = pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(n)],
            "row": np.zeros(n, dtype=np.int32),
            "prediction": (p1 > 0.5).astype(int),
            "proba.0": 1 - p1,
            "proba.1": p1,
        }
    )
    return frame, truth


def _feedback(ids: Sequence[str], labels: Sequence[object]) -> list[Feedback]:
    return [
        Feedback(deployment="d", request_id=i, label=v, at=0)
        for i, v in zip(ids, labels, strict=True)
    ]


def test_metrics_match_scikit_learn_on_the_labelled_rows() -> None:
    frame, truth = _log(400)
    ids = frame["request_id"].tolist()
    labelled = 250  # labels arrive for some requests only
    section = performance(
        frame,
        _feedback(ids[:labelled], truth[:labelled].tolist()),
        problem=CLASSIFY,
        baseline={"roc_auc": 0.9, "accuracy": 0.8},
        min_rows=30,
    )
    y, p1 = truth[:labelled], frame["proba.1"].to_numpy()[:labelled]
    assert section["labelled_rows"] == labelled
    assert section["rows"] == 400
    assert section["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, p1), abs=1e-12)
    assert section["metrics"]["accuracy"] == pytest.approx(
        accuracy_score(y, frame["prediction"].to_numpy()[:labelled]), abs=1e-12
    )
    assert section["metrics"]["log_loss"] == pytest.approx(log_loss(y, np.c_[1 - p1, p1]), abs=1e-9)
    assert section["delta"]["roc_auc"] == pytest.approx(section["metrics"]["roc_auc"] - 0.9)
    assert section["status"] == "ok"
    assert section["drop"] is False


def test_a_drop_beyond_the_tolerance_is_reported() -> None:
    frame, truth = _log(200)
    wrong = (1 - truth).tolist()  # the world changed: every label flipped
    section = performance(
        frame,
        _feedback(frame["request_id"].tolist(), wrong),
        problem=CLASSIFY,
        baseline={"roc_auc": 0.9},
        min_rows=30,
    )
    assert section["status"] == "drop"
    assert section["drop"] is True
    assert section["metrics"]["roc_auc"] < 0.5


def test_too_few_labels_say_so_with_counts() -> None:
    frame, truth = _log(100)
    ids = frame["request_id"].tolist()
    section = performance(
        frame,
        _feedback(ids[:5], truth[:5].tolist()),
        problem=CLASSIFY,
        baseline={"roc_auc": 0.9},
        min_rows=30,
    )
    assert (section["status"], section["labelled_rows"], section["min_rows"]) == (
        "insufficient_data",
        5,
        30,
    )
    assert section["metrics"] == {}
    assert section["drop"] is None
    none = performance(frame, [], problem=CLASSIFY, baseline={}, min_rows=30)
    assert none["status"] == "no_labels"


def test_list_labels_cover_multi_row_requests_and_unknown_ids_are_ignored() -> None:
    log = pd.DataFrame(
        {"request_id": ["a", "a", "a", "b"], "row": [0, 1, 2, 0], "prediction": [1, 0, 1, 1]}
    )
    labels = _feedback(["a", "b", "zzz"], [[1, 1, 0], 1, 0])
    joined = join_labels(log, labels)
    assert sorted(zip(joined["request_id"], joined["row"], joined["label"], strict=True)) == [
        ("a", 0, 1),
        ("a", 1, 1),
        ("a", 2, 0),
        ("b", 0, 1),
    ]


def test_regression_metrics_and_minimised_primary_metric() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(10, 2, 100)
    log = pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(100)],
            "row": 0,
            "prediction": truth + rng.normal(0, 0.5, 100),
        }
    )
    problem = Problem(task=Task.REGRESSION, primary_metric="mae", direction=Direction.MINIMIZE)
    section = performance(
        log,
        _feedback(log["request_id"].tolist(), truth.tolist()),
        problem=problem,
        baseline={"mae": 0.1},
        min_rows=10,
    )
    assert section["metrics"]["mae"] == pytest.approx(
        mean_absolute_error(truth, log["prediction"]), abs=1e-12
    )
    assert section["drop"] is True  # MAE ~0.4 is worse than the 0.1 baseline
    assert metric_drop(section, "mae", 1.0) is False  # within a wider tolerance
    assert metric_drop(section, "unknown", 0.0) is None


def test_labels_of_another_type_than_predictions_still_match() -> None:
    frame, truth = _log(60)
    as_text = [str(v) for v in truth]  # JSON labels may come back as strings
    section = performance(
        frame,
        _feedback(frame["request_id"].tolist(), as_text),
        problem=CLASSIFY,
        baseline={},
        min_rows=30,
    )
    assert section["metrics"]["accuracy"] == pytest.approx(
        accuracy_score(truth, frame["prediction"]), abs=1e-12
    )
