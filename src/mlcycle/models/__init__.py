"""Models: package, log and load models of any flavor.

The public API (the client-side functions live in :mod:`mlcycle.client.models`)::

    >>> import mlcycle
    >>> with mlcycle.start_run(experiment="churn") as run:  # doctest: +SKIP
    ...     info = run.log_model(pipeline, "model", input_example=X.head())
    >>> model = mlcycle.models.load(info.uri)  # or "models:/churn@champion"  # doctest: +SKIP
    >>> model.predict(X), model.predict_proba(X), model.signature  # doctest: +SKIP
    >>> mlcycle.models.save(pipeline, "out/churn", input_example=X.head())  # doctest: +SKIP

The services live in submodules, which load pandas and model libraries on first use:

* :mod:`mlcycle.models.packaging` - save a model directory, load it back
* :mod:`mlcycle.models.manifest` - the manifest beside the model's files
* :mod:`mlcycle.models.signature` - infer signatures, check and cast input
* :mod:`mlcycle.models.flavors` - scikit-learn (skops), XGBoost, LightGBM, Python models
* :mod:`mlcycle.models.loaded` - :class:`LoadedModel`, one way to predict
* :mod:`mlcycle.models.uris` - ``runs:/``, ``models:/`` URIs
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlcycle._lazy import attach

if TYPE_CHECKING:
    from mlcycle.client.models import load as load
    from mlcycle.client.models import log as log
    from mlcycle.errors import UntrustedTypesError as UntrustedTypesError
    from mlcycle.models.flavors.pyfunc import PythonModel as PythonModel
    from mlcycle.models.info import ModelInfo as ModelInfo
    from mlcycle.models.loaded import LoadedModel as LoadedModel
    from mlcycle.models.manifest import Flavor as Flavor
    from mlcycle.models.manifest import ModelManifest as ModelManifest
    from mlcycle.models.packaging import save_model
    from mlcycle.models.signature import ColumnSpec as ColumnSpec
    from mlcycle.models.signature import DataType as DataType
    from mlcycle.models.signature import Signature as Signature
    from mlcycle.models.signature import infer_signature as infer_signature
    from mlcycle.models.uris import RegisteredModelUri as RegisteredModelUri
    from mlcycle.models.uris import RunModelUri as RunModelUri
    from mlcycle.models.uris import parse_model_uri as parse_model_uri
    from mlcycle.models.versions import LibraryVersionWarning as LibraryVersionWarning

    save = save_model

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ColumnSpec": "mlcycle.models.signature:ColumnSpec",
        "DataType": "mlcycle.models.signature:DataType",
        "Flavor": "mlcycle.models.manifest:Flavor",
        "LibraryVersionWarning": "mlcycle.models.versions:LibraryVersionWarning",
        "LoadedModel": "mlcycle.models.loaded:LoadedModel",
        "ModelInfo": "mlcycle.models.info:ModelInfo",
        "ModelManifest": "mlcycle.models.manifest:ModelManifest",
        "PythonModel": "mlcycle.models.flavors.pyfunc:PythonModel",
        "RegisteredModelUri": "mlcycle.models.uris:RegisteredModelUri",
        "RunModelUri": "mlcycle.models.uris:RunModelUri",
        "Signature": "mlcycle.models.signature:Signature",
        "UntrustedTypesError": "mlcycle.errors:UntrustedTypesError",
        "infer_signature": "mlcycle.models.signature:infer_signature",
        "load": "mlcycle.client.models:load",
        "log": "mlcycle.client.models:log",
        "parse_model_uri": "mlcycle.models.uris:parse_model_uri",
        "save": "mlcycle.models.packaging:save_model",
    },
)
