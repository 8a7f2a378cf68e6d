"""The client's door to the model registry, used by ``models:/`` URIs and
``run.log_model(register=...)``.

:func:`model_registry` is the registry service of a client over a local or database store
(:attr:`mlcycle.Client.registry`); for a tracking server it raises InvalidInputError, since
the server does not serve the registry yet. The public registry API is
:mod:`mlcycle.client.registry_api`, re-exported as :mod:`mlcycle.registry`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlcycle.entities import ModelVersion, RunInput
from mlcycle.entities.models import ModelSource
from mlcycle.errors import InvalidInputError, MlcycleError
from mlcycle.ports.registry import ModelRegistry

if TYPE_CHECKING:
    from mlcycle.client.client import Client
    from mlcycle.registry.service import TrustedScorer


def model_registry(client: Client) -> ModelRegistry | None:
    """The model registry behind ``client`` (None: not available)."""
    return client.registry


def register_model(client: Client, name: str, *, run_id: str, artifact_path: str) -> object:
    """Register the model logged at ``runs:/<run_id>/<artifact_path>`` as the next version
    of the registered model ``name``; returns the new version."""
    registry = model_registry(client)
    if registry is None:
        raise InvalidInputError(
            f"cannot register the model as {name!r}: model registry not available yet "
            f"(the model is logged at runs:/{run_id}/{artifact_path})",
            field="register",
        )
    return registry.register(name, ModelSource(run_id, artifact_path))


def resolve_registered_model(
    client: Client, name: str, *, version: int | None = None, alias: str | None = None
) -> ModelSource:
    """The logged model behind ``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
    registry = model_registry(client)
    if registry is None:
        raise InvalidInputError(
            f"cannot resolve the registered model {name!r}: model registry not available "
            "yet; load the model by its run URI, runs:/<run_id>/<artifact_path>",
            field="uri",
        )
    return registry.resolve(name, version=version, alias=alias)


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
