"""What ``run.log_model`` returns."""

from __future__ import annotations

from dataclasses import dataclass

from mlcycle.entities.registry import ModelVersion
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.signature import Signature

#: The run tag listing the models logged in a run, as JSON: ``[{"name", "flavor"}, ...]``.
MODELS_TAG = "mlcycle.models"


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """A model logged in a run: where it is (``uri``) and what it is.

    ``registered_version`` is the model version created by ``register=``, else None.
    """

    run_id: str
    artifact_path: str
    manifest: ModelManifest
    registered_version: ModelVersion | None = None

    @property
    def uri(self) -> str:
        """``runs:/<run_id>/<artifact_path>``, which ``mlcycle.models.load`` takes."""
        return f"runs:/{self.run_id}/{self.artifact_path}"

    @property
    def flavor(self) -> Flavor:
        return self.manifest.flavor

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature
