"""Retraining jobs the tests name as ``tests.monitoring.jobs:<function>``: they fit a real
model on the training data plus the window's labelled rows and register it."""

from __future__ import annotations

import pandas as pd

import mlcycle
from mlcycle.monitoring import RetrainContext
from tests.models._models import FEATURES, churn_pipeline
from tests.monitoring._setup import EXPERIMENT, TRAINING

#: The evaluation metric the retrained version's run logs (the gates judge it).
LOGGED_AUC = {"value": 0.9}
SEEN: list[RetrainContext] = []


def retrain(ctx: RetrainContext) -> None:
    """Append the labelled window to the training data (a derived dataset version), fit,
    log the run with that input and register the model as the deployed model's next
    version."""
    SEEN.append(ctx)
    client = ctx.client
    assert isinstance(client, mlcycle.Client)
    assert ctx.model_name is not None
    labelled = ctx.window[ctx.window["label"].notna()]
    fresh = labelled[FEATURES].assign(churned=labelled["label"].astype(int))
    base = mlcycle.datasets.get(TRAINING, 1, client=client)
    data = pd.concat([base.load(), fresh], ignore_index=True)
    train = mlcycle.datasets.derive(
        TRAINING, base, data, "append the labelled window", client=client
    )
    model = churn_pipeline(data)
    with client.start_run(EXPERIMENT, capture_environment=False) as run:
        run.log_input(train, context="train")
        run.log_metric("roc_auc", LOGGED_AUC["value"])
        run.log_model(model, "model", input_example=data[FEATURES].head(3), register=ctx.model_name)


def fails(ctx: RetrainContext) -> None:
    raise RuntimeError("the feature store is down")
