"""Loading a model by URI through a client: ``runs:/`` and ``models:/`` URIs resolved
through its tracking and registry APIs, files read in place from a local artifact store or
downloaded once into a cache keyed by run ID, path and the files' sha256.

:func:`load_model` is what :func:`mlcycle.models.load` runs, and what the client hands the
deployments (:class:`~mlcycle.backends.local.Hooks`) to check that a route's model loads.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlcycle.client.registry import resolve_registered_model
from mlcycle.entities.models import ModelSource
from mlcycle.errors import ArtifactNotFoundError
from mlcycle.models.loaded import LoadedModel
from mlcycle.models.manifest import MANIFEST_FILE
from mlcycle.models.packaging import load_model_dir
from mlcycle.models.uris import LocalModelUri, RegisteredModelUri, parse_model_uri

if TYPE_CHECKING:
    from mlcycle.client.client import Client

CACHE_DIR = ".cache/models"


def load_model(
    client: Client, uri: str | os.PathLike[str], trusted: Sequence[str] | None = None
) -> LoadedModel:
    """The model at ``uri`` (see :func:`mlcycle.models.load`), through ``client``."""
    parsed = parse_model_uri(os.fspath(uri))
    if isinstance(parsed, LocalModelUri):
        return load_model_dir(parsed.path, trusted=trusted, uri=str(parsed.path))
    if isinstance(parsed, RegisteredModelUri):
        source = resolve_registered_model(
            client, parsed.name, version=parsed.version, alias=parsed.alias
        )
    else:
        source = ModelSource(parsed.run_id, parsed.artifact_path)
    return load_model_dir(model_directory(client, source), trusted=trusted, uri=str(parsed))


def model_directory(client: Client, source: ModelSource) -> Path:
    """A local directory holding the model's files: the artifact folder itself when the
    artifact store is local, else a verified download in the client's cache."""
    local = client.tracking.local_artifact_path(source.run_id, source.artifact_path)
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
            for f in client.tracking.list_artifacts(source.run_id, source.artifact_path)
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
            client.tracking.download_artifact(
                source.run_id, f.path, staging / f.path[len(prefix) :]
            )
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
