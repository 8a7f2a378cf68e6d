"""The public model API, re-exported as :mod:`mlcycle.models`.

>>> import mlcycle
>>> with mlcycle.start_run(experiment="churn") as run:  # doctest: +SKIP
...     info = run.log_model(pipeline, "model", input_example=X.head())
>>> model = mlcycle.models.load(info.uri)  # doctest: +SKIP
>>> model.predict(X), model.signature  # doctest: +SKIP

Loading works on the default client (``mlcycle.get_client()``) unless ``client=`` is
given. With a local artifact store the model's files are read in place; from a tracking
server they are downloaded once into a cache keyed by run ID, path and the files' sha256,
so a warm load reads no file twice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from mlcycle.client.client import Client
from mlcycle.client.fluent import active_run, get_client
from mlcycle.client.loading import load_model
from mlcycle.errors import InvalidInputError
from mlcycle.models.info import ModelInfo
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.signature import Signature
from mlcycle.tracking.run import ActiveRun


def load(
    uri: str | os.PathLike[str],
    trusted: Sequence[str] | None = None,
    *,
    client: Client | None = None,
) -> LoadedModel:
    """Load a model by URI: ``runs:/<run_id>/<name>``, ``models:/<name>/<version>``,
    ``models:/<name>@<alias>``, or a model directory on disk.

    Returns a :class:`LoadedModel` with ``predict``, ``predict_proba`` (where the flavor
    has it) and ``signature``. scikit-learn and Python models load only types skops
    trusts; name others in ``trusted`` (UntrustedTypesError lists them). A model saved
    with a newer library version than the installed one loads with a
    LibraryVersionWarning naming both versions.

    >>> model = mlcycle.models.load("runs:/0190a1b2c3/model")  # doctest: +SKIP
    >>> model = mlcycle.models.load("models:/churn@champion")  # doctest: +SKIP

    Raises NotFoundError (or ArtifactNotFoundError) when there is no model at the URI,
    and InvalidInputError for a malformed URI.
    """
    return load_model(client or get_client(), uri, trusted)


def log(
    model: object,
    name: str,
    input_example: object | None = None,
    signature: Signature | Mapping[str, Any] | None = None,
    register: str | None = None,
    *,
    metadata: Mapping[str, Any] | None = None,
    run: ActiveRun | None = None,
) -> ModelInfo:
    """Log ``model`` into ``run``, by default the active run (see
    :meth:`mlcycle.ActiveRun.log_model`).

    >>> with mlcycle.start_run():  # doctest: +SKIP
    ...     mlcycle.models.log(model, "model", input_example=X.head())
    """
    target = run or active_run()
    if target is None:
        raise InvalidInputError(
            "no active run to log the model into: use mlcycle.start_run() or pass run=",
            field="run",
        )
    return target.log_model(model, name, input_example, signature, register, metadata=metadata)
