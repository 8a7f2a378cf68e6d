"""The model registry: registered models, versions, aliases, promotion gates, lineage.

The public API (implemented in :mod:`mlcycle.client.registry_api`, over the default
client)::

    >>> import mlcycle
    >>> with mlcycle.start_run(experiment="churn") as run:  # doctest: +SKIP
    ...     run.log_model(pipeline, "model", input_example=X.head(), register="churn")
    >>> mlcycle.registry.list_versions("churn")  # doctest: +SKIP
    >>> gates = [mlcycle.registry.FairnessGate(0.1)]  # doctest: +SKIP
    >>> mlcycle.registry.promote("churn", 1, gates=gates)  # doctest: +SKIP
    >>> mlcycle.models.load("models:/churn@champion")  # doctest: +SKIP

The stage's logic lives in submodules:

* :mod:`mlcycle.registry.service` - :class:`RegistryService` over the registry port
* :mod:`mlcycle.registry.gates` - the Gate protocol and the built-in promotion gates
"""

from mlcycle.client.registry_api import (
    compare,
    create_model,
    delete_alias,
    gate_results,
    get_model,
    get_version,
    lineage,
    list_models,
    list_versions,
    promote,
    register,
    search,
    set_alias,
    set_status,
    update_model,
    update_version,
    versions_of_run,
)
from mlcycle.entities import (
    GateResult,
    ModelLineage,
    ModelVersion,
    ModelVersionStatus,
    Promotion,
    RegisteredModel,
    VersionComparison,
)
from mlcycle.errors import PromotionRefusedError
from mlcycle.registry.gates import (
    CallableGate,
    FairnessGate,
    Gate,
    GateContext,
    LatencyGate,
    NoRegressionGate,
    ThresholdGate,
)

__all__ = [
    "CallableGate",
    "FairnessGate",
    "Gate",
    "GateContext",
    "GateResult",
    "LatencyGate",
    "ModelLineage",
    "ModelVersion",
    "ModelVersionStatus",
    "NoRegressionGate",
    "Promotion",
    "PromotionRefusedError",
    "RegisteredModel",
    "ThresholdGate",
    "VersionComparison",
    "compare",
    "create_model",
    "delete_alias",
    "gate_results",
    "get_model",
    "get_version",
    "lineage",
    "list_models",
    "list_versions",
    "promote",
    "register",
    "search",
    "set_alias",
    "set_status",
    "update_model",
    "update_version",
    "versions_of_run",
]
