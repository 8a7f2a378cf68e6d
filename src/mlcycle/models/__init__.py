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

from mlcycle.client.models import load, log
from mlcycle.errors import UntrustedTypesError
from mlcycle.models.flavors.pyfunc import PythonModel
from mlcycle.models.info import ModelInfo
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.manifest import Flavor, ModelManifest
from mlcycle.models.packaging import save_model
from mlcycle.models.signature import ColumnSpec, DataType, Signature, infer_signature
from mlcycle.models.uris import RegisteredModelUri, RunModelUri, parse_model_uri
from mlcycle.models.versions import LibraryVersionWarning

save = save_model

__all__ = [
    "ColumnSpec",
    "DataType",
    "Flavor",
    "LibraryVersionWarning",
    "LoadedModel",
    "ModelInfo",
    "ModelManifest",
    "PythonModel",
    "RegisteredModelUri",
    "RunModelUri",
    "Signature",
    "UntrustedTypesError",
    "infer_signature",
    "load",
    "log",
    "parse_model_uri",
    "save",
]
