"""The route source of an image: the model in the build context, served with no store.

Nothing is polled and nothing is resolved through a registry: the one arm serves the
files in ``model/``, under the registered name and version the context records.
Feedback labels (``POST /feedback``) go to Parquet files beside the prediction log, under
the artifact root (``feedback/deployment=<name>/part-<id>.parquet``), for a store to
ingest later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from mlcycle.containers.spec import MODEL_DIR, ContextSpec
from mlcycle.deployments.prediction_logs import deployment_dir
from mlcycle.entities.deployments import Arm, ArmStats, Deployment
from mlcycle.ids import new_id
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.packaging import load_model_dir
from mlcycle.serving.sources import DEFAULT_ARM, ArmTarget, FeedbackOutcome, KnownFn

FEEDBACK_DIR = "feedback"


class ContextRouteSource:
    """Serve the model of the build context at ``root`` as ``spec`` describes it."""

    def __init__(self, root: Path, spec: ContextSpec, *, artifact_root: str) -> None:
        self._root = root
        self._spec = spec
        self._artifact_root = artifact_root
        path = str(root / MODEL_DIR)
        arm = Arm(name=DEFAULT_ARM, model_uri=path)
        self._deployment = Deployment(
            name=spec.name, model_uri=spec.model_uri, arms=(arm,), options=spec.options
        )

    @property
    def name(self) -> str:
        return self._spec.name

    def deployment(self) -> Deployment:
        return self._deployment

    def resolve(self, arm: Arm) -> ArmTarget:
        spec = self._spec
        return ArmTarget(
            arm=arm,
            key=arm.model_uri,
            uri=arm.model_uri,
            name=spec.model_name or spec.name,
            version=spec.version,
            label=spec.label,
        )

    def load(self, target: ArmTarget) -> LoadedModel:
        trusted = [*self._spec.trusted, *self._spec.options.trusted]
        return load_model_dir(target.uri, trusted=trusted, uri=self._spec.model_uri)

    def canary_tick(
        self, stats: Mapping[str, ArmStats], now_ms: int, expected_revision: int
    ) -> object | None:
        return None  # one model, no rollout

    def record_feedback(self, items: Sequence[tuple[str, Any]], known: KnownFn) -> FeedbackOutcome:
        import pyarrow as pa  # loaded with the prediction log's writer anyway
        import pyarrow.parquet as pq

        stored = [(rid, label) for rid, label in items if known(rid)]
        unknown = tuple(rid for rid, _ in items if not known(rid))
        if stored:
            table = pa.table(
                {
                    "request_id": [rid for rid, _ in stored],
                    "label": [orjson.dumps(label).decode() for _, label in stored],
                    "deployment": [self.name] * len(stored),
                }
            )
            folder = feedback_dir(self._artifact_root, self.name)
            folder.mkdir(parents=True, exist_ok=True)
            name = f"part-{new_id()}.parquet"
            tmp = folder / f".{name}.tmp"
            pq.write_table(table, tmp)
            os.replace(tmp, folder / name)
        return FeedbackOutcome(stored=len(stored), unknown=unknown)

    def close(self) -> None:
        return None


def feedback_dir(artifact_root: str, deployment: str) -> Path:
    """Where an image writes the feedback labels of ``deployment``."""
    logs = deployment_dir(artifact_root, deployment)
    return logs.parent.parent / FEEDBACK_DIR / logs.name
