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

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

if TYPE_CHECKING:
    from mlcycle.client.registry_api import compare as compare
    from mlcycle.client.registry_api import create_model as create_model
    from mlcycle.client.registry_api import delete_alias as delete_alias
    from mlcycle.client.registry_api import gate_results as gate_results
    from mlcycle.client.registry_api import get_model as get_model
    from mlcycle.client.registry_api import get_version as get_version
    from mlcycle.client.registry_api import lineage as lineage
    from mlcycle.client.registry_api import list_models as list_models
    from mlcycle.client.registry_api import list_versions as list_versions
    from mlcycle.client.registry_api import promote as promote
    from mlcycle.client.registry_api import register as register
    from mlcycle.client.registry_api import search as search
    from mlcycle.client.registry_api import set_alias as set_alias
    from mlcycle.client.registry_api import set_status as set_status
    from mlcycle.client.registry_api import update_model as update_model
    from mlcycle.client.registry_api import update_version as update_version
    from mlcycle.client.registry_api import versions_of_run as versions_of_run
    from mlcycle.entities import GateResult as GateResult
    from mlcycle.entities import ModelLineage as ModelLineage
    from mlcycle.entities import ModelVersion as ModelVersion
    from mlcycle.entities import ModelVersionStatus as ModelVersionStatus
    from mlcycle.entities import Promotion as Promotion
    from mlcycle.entities import RegisteredModel as RegisteredModel
    from mlcycle.entities import VersionComparison as VersionComparison
    from mlcycle.errors import PromotionRefusedError as PromotionRefusedError
    from mlcycle.registry.gates import CallableGate as CallableGate
    from mlcycle.registry.gates import CardGate as CardGate
    from mlcycle.registry.gates import FairnessGate as FairnessGate
    from mlcycle.registry.gates import Gate as Gate
    from mlcycle.registry.gates import GateContext as GateContext
    from mlcycle.registry.gates import LatencyGate as LatencyGate
    from mlcycle.registry.gates import NoRegressionGate as NoRegressionGate
    from mlcycle.registry.gates import ThresholdGate as ThresholdGate

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "CallableGate": "mlcycle.registry.gates:CallableGate",
        "CardGate": "mlcycle.registry.gates:CardGate",
        "FairnessGate": "mlcycle.registry.gates:FairnessGate",
        "Gate": "mlcycle.registry.gates:Gate",
        "GateContext": "mlcycle.registry.gates:GateContext",
        "GateResult": "mlcycle.entities:GateResult",
        "LatencyGate": "mlcycle.registry.gates:LatencyGate",
        "ModelLineage": "mlcycle.entities:ModelLineage",
        "ModelVersion": "mlcycle.entities:ModelVersion",
        "ModelVersionStatus": "mlcycle.entities:ModelVersionStatus",
        "NoRegressionGate": "mlcycle.registry.gates:NoRegressionGate",
        "Promotion": "mlcycle.entities:Promotion",
        "PromotionRefusedError": "mlcycle.errors:PromotionRefusedError",
        "RegisteredModel": "mlcycle.entities:RegisteredModel",
        "ThresholdGate": "mlcycle.registry.gates:ThresholdGate",
        "VersionComparison": "mlcycle.entities:VersionComparison",
        "compare": "mlcycle.client.registry_api:compare",
        "create_model": "mlcycle.client.registry_api:create_model",
        "delete_alias": "mlcycle.client.registry_api:delete_alias",
        "gate_results": "mlcycle.client.registry_api:gate_results",
        "get_model": "mlcycle.client.registry_api:get_model",
        "get_version": "mlcycle.client.registry_api:get_version",
        "lineage": "mlcycle.client.registry_api:lineage",
        "list_models": "mlcycle.client.registry_api:list_models",
        "list_versions": "mlcycle.client.registry_api:list_versions",
        "promote": "mlcycle.client.registry_api:promote",
        "register": "mlcycle.client.registry_api:register",
        "search": "mlcycle.client.registry_api:search",
        "set_alias": "mlcycle.client.registry_api:set_alias",
        "set_status": "mlcycle.client.registry_api:set_status",
        "update_model": "mlcycle.client.registry_api:update_model",
        "update_version": "mlcycle.client.registry_api:update_version",
        "versions_of_run": "mlcycle.client.registry_api:versions_of_run",
    },
)
