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

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlcycle.client.client import Client
from mlcycle.client.fluent import active_run, get_client
from mlcycle.client.registry import resolve_registered_model
from mlcycle.entities.models import ModelSource
from mlcycle.errors import ArtifactNotFoundError, InvalidInputError
from mlcycle.models.info import ModelInfo
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.manifest import MANIFEST_FILE
from mlcycle.models.packaging import load_model_dir
from mlcycle.models.signature import Signature
from mlcycle.models.uris import LocalModelUri, RegisteredModelUri, parse_model_uri
from mlcycle.tracking.run import ActiveRun
from mlcycle.tracking.service import TrackingService

CACHE_DIR = ".cache/models"


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
    parsed = parse_model_uri(os.fspath(uri))
    if isinstance(parsed, LocalModelUri):
        return load_model_dir(parsed.path, trusted=trusted, uri=str(parsed.path))
    client = client or get_client()
    if isinstance(parsed, RegisteredModelUri):
        source = resolve_registered_model(
            client, parsed.name, version=parsed.version, alias=parsed.alias
        )
    else:
        source = ModelSource(parsed.run_id, parsed.artifact_path)
    return load_model_dir(model_directory(client, source), trusted=trusted, uri=str(parsed))


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


def model_directory(client: Client, source: ModelSource) -> Path:
    """A local directory holding the model's files: the artifact folder itself when the
    artifact store is local, else a verified download in the client's cache."""
    backend = client.backend
    if isinstance(backend, TrackingService):
        local = backend.local_artifact_path(source.run_id, source.artifact_path)
        if local is not None:
            if not (local / MANIFEST_FILE).is_file():
                raise _no_model(source)
            return local
    return _download(client, source)


def _no_model(source: ModelSource) -> ArtifactNotFoundError:
    return ArtifactNotFoundError(
        f"run {source.run_id} has no model at {source.artifact_path!r} (no {MANIFEST_FILE} there)",
        field="uri",
    )


def _download(client: Client, source: ModelSource) -> Path:
    prefix = source.artifact_path.strip("/") + "/"
    files = sorted(
        (
            f
            for f in client.backend.list_artifacts(source.run_id, source.artifact_path)
            if f.path.startswith(prefix)
        ),
        key=lambda f: f.path,
    )
    if not any(f.path == prefix + MANIFEST_FILE for f in files):
        raise _no_model(source)
    listing = "\n".join(f"{f.path[len(prefix) :]}\t{f.sha256}" for f in files)
    digest = hashlib.sha256(listing.encode()).hexdigest()[:16]
    root = _cache_root(client) / source.run_id / source.artifact_path / digest
    if root.is_dir():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=".tmp-"))
    try:
        for f in files:
            client.backend.download_artifact(source.run_id, f.path, staging / f.path[len(prefix) :])
        os.replace(staging, root)  # complete or absent: readers never see half a model
    except OSError:
        if not root.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def _cache_root(client: Client) -> Path:
    """Downloaded models are cached beside local artifacts, or in the user's cache folder
    when the artifacts are in object storage."""
    base = client.settings.artifact_uri
    if base.startswith("file://"):
        base = base[len("file://") :]
    elif "://" in base:
        return Path.home() / ".cache" / "mlcycle" / CACHE_DIR
    return Path(base).expanduser() / CACHE_DIR
