"""A monitored deployment for the monitoring tests: an experiment with its problem, a
training dataset version, a scikit-learn model registered with that lineage and deployed,
and helpers that write the deployment's prediction log (with the serving's own writer)
and its feedback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score

import mlcycle
from mlcycle.deployments.prediction_logs import LogEntry, PredictionLogWriter, RequestSpan
from tests.models._models import FEATURES, churn_frame, churn_pipeline

MODEL = "churn"
DEPLOYMENT = "churn-api"
EXPERIMENT = "churn"
TRAINING = "churn-train"
TRAIN_ROWS = 2000
BASELINE_AUC = 0.8


@dataclass
class Setup:
    client: mlcycle.Client
    train: pd.DataFrame
    model: object


def deploy_churn(
    client: mlcycle.Client,
    *,
    train_rows: int = TRAIN_ROWS,
    metrics: Mapping[str, float] | None = None,
) -> Setup:
    """Experiment, training data, registered model (champion) and a deployment of it;
    ``metrics`` are logged to the version's run too."""
    client.create_experiment(
        EXPERIMENT,
        task="classification",
        target="churned",
        primary_metric="roc_auc",
        direction="maximize",
        threshold=0.7,
    )
    train = churn_frame(train_rows, seed=1)
    version = mlcycle.datasets.register(TRAINING, train, client=client)
    model = churn_pipeline(train)
    proba = model.predict_proba(train[FEATURES])[:, 1]
    with client.start_run(EXPERIMENT, capture_environment=False) as run:
        run.log_input(version, context="train")
        run.log_metric("roc_auc", BASELINE_AUC)
        run.log_metric("accuracy", float(accuracy_score(train["churned"], proba > 0.5)))
        run.log_metric("train_roc_auc", float(roc_auc_score(train["churned"], proba)))
        run.log_metrics(dict(metrics or {}))
        run.log_model(model, "model", input_example=train[FEATURES].head(3), register=MODEL)
    client.registry.set_alias(MODEL, "champion", 1)
    client.deployments.create(DEPLOYMENT, f"models:/{MODEL}@champion")
    return Setup(client, train, model)


def shifted(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with tenure and charges shifted far: two of the four features drift."""
    return frame.assign(tenure=frame["tenure"] + 25.0, charges=frame["charges"] + 60.0)


def log_predictions(
    setup: Setup,
    frame: pd.DataFrame,
    *,
    start_ms: int,
    spacing_ms: int = 10,
    version: int = 1,
    arm: str = "primary",
    prefix: str = "req",
) -> list[str]:
    """Predict ``frame`` (one request per row) and write it to the prediction log with
    the serving's writer, request ``i`` at ``start_ms + i * spacing_ms``."""
    model = setup.model
    columns = {name: frame[name].to_numpy() for name in FEATURES}
    predictions = model.predict(frame[FEATURES])  # type: ignore[attr-defined]
    proba = model.predict_proba(frame[FEATURES])  # type: ignore[attr-defined]
    ids = [f"{prefix}-{start_ms}-{i}" for i in range(len(frame))]
    spans = [
        RequestSpan(
            request_id=rid, time_ms=start_ms + i * spacing_ms, start=i, stop=i + 1, latency_ms=1.0
        )
        for i, rid in enumerate(ids)
    ]
    writer = PredictionLogWriter(setup.client.backend.prediction_logs)  # or a server's
    writer.append(
        LogEntry(
            deployment=DEPLOYMENT,
            model=MODEL,
            version=version,
            arm=arm,
            columns=columns,
            predictions=np.asarray(predictions),
            requests=spans,
            proba=np.asarray(proba),
            classes=[0, 1],
        )
    )
    writer.close()
    return ids


def send_feedback(setup: Setup, ids: Sequence[str], labels: Sequence[object]) -> None:
    setup.client.deployments.record_feedback(
        DEPLOYMENT, [(rid, label) for rid, label in zip(ids, labels, strict=True)]
    )
