"""Setting up what contract tests need, the way a user does: runs with logged models."""

from __future__ import annotations

import mlcycle
from mlcycle.entities.models import ModelSource
from tests.models._models import FEATURES, churn_frame, churn_pipeline


def log_model_run(
    tracking: mlcycle.Client, *, auc: float = 0.8, params: dict[str, object] | None = None
) -> ModelSource:
    """A run with param ``C``, metric ``roc_auc`` and a fitted pipeline at ``model``."""
    frame = churn_frame(60)
    pipeline = churn_pipeline(frame)
    with tracking.start_run("churn", capture_environment=False) as run:
        run.log_params(params or {"C": 1.0})
        run.log_metric("roc_auc", auc)
        run.log_model(pipeline, "model", input_example=frame[FEATURES].head(3))
        run_id = run.id
    return ModelSource(run_id=run_id, artifact_path="model")
