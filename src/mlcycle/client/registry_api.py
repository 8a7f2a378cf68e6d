"""The public model registry API, re-exported as :mod:`mlcycle.registry`.

Every function works on the default client (``mlcycle.get_client()``) unless ``client=``
is given; it calls the client's registry API (``client.registry``), which a backend that
does not offer it refuses with CapabilityUnavailableError.

    >>> import mlcycle
    >>> with mlcycle.start_run(experiment="churn") as run:  # doctest: +SKIP
    ...     run.log_model(pipeline, "model", input_example=X.head(), register="churn")
    >>> mlcycle.registry.promote("churn", 1)  # doctest: +SKIP
    >>> mlcycle.models.load("models:/churn@champion")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlcycle.client.client import Client
from mlcycle.client.fluent import get_client
from mlcycle.entities import (
    GateResult,
    ModelLineage,
    ModelVersion,
    ModelVersionStatus,
    Promotion,
    RegisteredModel,
    VersionComparison,
)
from mlcycle.entities.models import ModelSource
from mlcycle.errors import InvalidInputError
from mlcycle.models.uris import RunModelUri, parse_model_uri
from mlcycle.ports.api import RegistryAPI
from mlcycle.registry.gates import GateLike


def _registry(client: Client | None) -> RegistryAPI:
    return (client or get_client()).registry


def create_model(
    name: str,
    description: str | None = None,
    *,
    owner: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> RegisteredModel:
    """Create the registered model ``name`` (registering a version creates it too).

    Raises AlreadyExistsError when the name is taken.
    """
    return _registry(client).create_model(name, description=description, owner=owner, tags=tags)


def update_model(
    name: str,
    *,
    description: str | None = None,
    owner: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> RegisteredModel:
    """Change a registered model's description or owner, or set tags on it."""
    return _registry(client).update_model(name, description=description, owner=owner, tags=tags)


def get_model(name: str, *, client: Client | None = None) -> RegisteredModel:
    """A registered model with its tags, latest version and aliases.

    >>> mlcycle.registry.get_model("churn").aliases  # doctest: +SKIP
    {'champion': 3, 'challenger': 4}

    Raises NotFoundError naming the model.
    """
    return _registry(client).get_model(name)


def list_models(
    filter: str | None = None, *, client: Client | None = None
) -> list[RegisteredModel]:
    """Registered models by name; ``filter`` keeps names containing it."""
    return _registry(client).list_models(filter)


search = list_models


def register(
    model_uri: str,
    name: str,
    *,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> ModelVersion:
    """Register the model logged at ``runs:/<run_id>/<path>`` as the next version of
    ``name`` (``run.log_model(..., register=name)`` does the same when logging).

    >>> mlcycle.registry.register("runs:/0190a1b2c3/model", "churn").version  # doctest: +SKIP
    2
    """
    parsed = parse_model_uri(model_uri)
    if not isinstance(parsed, RunModelUri):
        raise InvalidInputError(
            f"register a model by its run URI runs:/<run_id>/<path>, not {model_uri!r}",
            field="model_uri",
        )
    return _registry(client).register(
        name, ModelSource(parsed.run_id, parsed.artifact_path), description=description, tags=tags
    )


def list_versions(
    name: str, *, include_retired: bool = False, client: Client | None = None
) -> list[ModelVersion]:
    """The versions of ``name``, oldest first (retired ones only with
    ``include_retired``). Raises NotFoundError naming the model."""
    return _registry(client).list_versions(name, include_retired=include_retired)


def get_version(
    name: str,
    version: int | None = None,
    *,
    alias: str | None = None,
    client: Client | None = None,
) -> ModelVersion:
    """A version by number, by ``alias``, or (neither given) the latest.

    Raises NotFoundError naming the model, version or alias.
    """
    return _registry(client).resolve_version(name, version=version, alias=alias)


def update_version(
    name: str,
    version: int,
    *,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
    client: Client | None = None,
) -> ModelVersion:
    """Change a version's description or set tags on it."""
    return _registry(client).update_version(name, version, description=description, tags=tags)


def set_status(
    name: str, version: int, status: ModelVersionStatus | str, *, client: Client | None = None
) -> ModelVersion:
    """Set a version's status (``ready``, ``failed``, ``archived``, ``retired``...); a
    FAILED or RETIRED version loses its aliases."""
    return _registry(client).set_status(name, version, status)


def set_alias(name: str, alias: str, version: int, *, client: Client | None = None) -> ModelVersion:
    """Point ``alias`` at ``version``, moving it from the version it named before, with no
    gates (see :func:`promote` for the gated way).

    >>> mlcycle.registry.set_alias("churn", "challenger", 4)  # doctest: +SKIP

    Raises NotFoundError for an unknown model or version; InvalidInputError for a version
    that FAILED or is RETIRED.
    """
    return _registry(client).set_alias(name, alias, version)


def delete_alias(name: str, alias: str, *, client: Client | None = None) -> None:
    """Remove ``alias`` from ``name``. Raises NotFoundError naming it when it is not set."""
    _registry(client).delete_alias(name, alias)


def promote(
    name: str,
    version: int,
    alias: str = "champion",
    gates: Sequence[GateLike] | None = None,
    *,
    defaults: bool = True,
    tolerance: float = 0.0,
    force: bool = False,
    reason: str | None = None,
    client: Client | None = None,
) -> Promotion:
    """Move ``alias`` to ``version`` once it passes its promotion gates.

    The default gates come from the experiment's problem: the primary metric of the
    version's run meets the success threshold, and is not worse than the current
    ``alias``'s by more than ``tolerance`` on the same evaluation dataset version.
    ``gates`` adds more: :class:`~mlcycle.registry.FairnessGate`,
    :class:`~mlcycle.registry.LatencyGate`, any Gate, or a function of the
    :class:`~mlcycle.registry.GateContext` returning a bool. ``defaults=False`` runs only
    ``gates``. Every result is stored with the version (:func:`gate_results`).

    >>> mlcycle.registry.promote("churn", 4, gates=[FairnessGate(0.1)])  # doctest: +SKIP
    >>> mlcycle.registry.promote("churn", 4, force=True, reason="hotfix")  # doctest: +SKIP

    Raises PromotionRefusedError listing every failed gate (``.results`` holds them all);
    InvalidInputError for ``force`` without a ``reason`` or a FAILED/RETIRED version.
    """
    c = client or get_client()
    return c.registry.promote(
        name,
        version,
        alias,
        gates,
        defaults=defaults,
        tolerance=tolerance,
        force=force,
        reason=reason,
    )


def gate_results(name: str, version: int, *, client: Client | None = None) -> list[GateResult]:
    """Every gate result stored with a version, oldest first."""
    return _registry(client).gate_results(name, version)


def compare(name: str, v1: int, v2: int, *, client: Client | None = None) -> VersionComparison:
    """Params, metrics and data lineage of two versions side by side.

    >>> diff = mlcycle.registry.compare("churn", 3, 4)  # doctest: +SKIP
    >>> diff.metrics["roc_auc"]  # doctest: +SKIP
    (0.81, 0.84)
    """
    return _registry(client).compare(name, v1, v2)


def versions_of_run(run: str, *, client: Client | None = None) -> list[ModelVersion]:
    """The model versions registered from run ``run``'s models (by run ID).

    >>> [v.version for v in mlcycle.registry.versions_of_run(run_id)]  # doctest: +SKIP
    """
    registry = _registry(client)
    return [
        v
        for model in registry.list_models()
        for v in registry.list_versions(model.name, include_retired=True)
        if v.run_id == run
    ]


def lineage(
    name: str,
    version: int | None = None,
    *,
    alias: str | None = None,
    client: Client | None = None,
) -> ModelLineage:
    """Where a version comes from, in one call: its run (params, metrics), experiment, and
    the dataset versions the run used with their context.

    >>> mlcycle.registry.lineage("churn", alias="champion").inputs  # doctest: +SKIP
    """
    return _registry(client).lineage(name, version, alias=alias)
