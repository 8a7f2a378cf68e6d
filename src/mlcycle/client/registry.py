"""The client's door to the model registry, used by ``models:/`` URIs and
``run.log_model(register=...)``: the registry API of the client's backend, refused by the
backend (CapabilityUnavailableError) where it does not offer one. The public registry API
is :mod:`mlcycle.client.registry_api`, re-exported as :mod:`mlcycle.registry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlcycle.entities import ModelVersion, RunInput
from mlcycle.entities.models import ModelSource
from mlcycle.errors import MlcycleError
from mlcycle.registry.service import TrustedScorer, check_name

if TYPE_CHECKING:
    from mlcycle.client.client import Client


class ClientRegistrar:
    """How runs of ``client`` register the models they log (the
    :class:`~mlcycle.tracking.run.ModelRegistrar` of ``log_model(register=...)``)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def check(self, name: str) -> None:
        """Refuse before the model is uploaded: a backend without a registry
        (CapabilityUnavailableError), or a name the registry refuses."""
        self._client.registry  # noqa: B018 - the backend refuses a registry it lacks
        check_name(name)

    def register(self, name: str, run_id: str, artifact_path: str) -> ModelVersion:
        """Register the model logged at ``runs:/<run_id>/<artifact_path>`` as the next
        version of the registered model ``name``; returns the new version."""
        return self._client.registry.register(name, ModelSource(run_id, artifact_path))


def resolve_registered_model(
    client: Client, name: str, *, version: int | None = None, alias: str | None = None
) -> ModelSource:
    """The logged model behind ``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
    return client.registry.resolve(name, version=version, alias=alias)


def version_scorer(client: Client) -> TrustedScorer:
    """Score a model version on a dataset version, for the promotion gates that compare two
    versions on the same data: loads both through ``client`` and evaluates the model on the
    data's target (the version's experiment's target) without logging anything. None when
    it cannot (a model that does not load, data without the target, a metric not computed).
    """

    def score(
        version: ModelVersion, data: RunInput, metric: str, trusted: Sequence[str]
    ) -> float | None:
        # Deferred: evaluation and model loading pull in pandas and scikit-learn.
        from mlcycle.client.datasets import get as get_dataset
        from mlcycle.client.evaluation import evaluate

        try:
            run = client.get_run(version.run_id)
            target = client.get_experiment(run.experiment_id).problem.target
            frame = get_dataset(data.name, data.version, client=client).load()
            if target is None or target not in frame.columns:
                return None
            result = evaluate(
                version.uri, frame, target=target, trusted=trusted, log=False, client=client
            )
        except MlcycleError:
            return None
        value = result.metrics.get(metric)
        return float(value) if isinstance(value, int | float) else None

    return score
