"""Where a model's files are: the values model URIs resolve to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSource:
    """A logged model: the run that logged it and its folder among the run's artifacts.

    ``runs:/<run_id>/<artifact_path>`` names it; ``models:/<name>/<version>`` and
    ``models:/<name>@<alias>`` resolve to one through the model registry.
    """

    run_id: str
    artifact_path: str

    @property
    def uri(self) -> str:
        return f"runs:/{self.run_id}/{self.artifact_path}"
