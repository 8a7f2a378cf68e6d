"""Adapters for artifact bytes: a local directory (the default) or S3-compatible object
storage, chosen by the artifact URI's scheme.

>>> from mlcycle.artifacts import open_artifact_store
>>> open_artifact_store("/tmp/artifacts")  # doctest: +ELLIPSIS
<mlcycle.artifacts.local.LocalArtifactStore object at ...>
>>> open_artifact_store("s3://bucket/team-a").uri("runs/x/model.pkl")
's3://bucket/team-a/runs/x/model.pkl'
"""

from __future__ import annotations

from collections.abc import Mapping

from mlcycle.artifacts.local import LocalArtifactStore
from mlcycle.artifacts.s3 import S3ArtifactStore
from mlcycle.errors import InvalidInputError

__all__ = ["LocalArtifactStore", "S3ArtifactStore", "open_artifact_store"]

#: Schemes an artifact URI may have; a bare path is a local directory.
SCHEMES = ("file://", "s3://")


def open_artifact_store(
    uri: str, *, environ: Mapping[str, str] | None = None
) -> LocalArtifactStore | S3ArtifactStore:
    """The artifact store for ``uri``: ``s3://bucket/prefix`` or a local directory
    (``file://`` or a path). Any other scheme is refused, naming the URI. No I/O."""
    if uri.startswith("s3://"):
        return S3ArtifactStore(uri, environ=environ)
    if "://" in uri and not uri.startswith("file://"):
        raise InvalidInputError(
            f"artifact URI {uri!r}: the scheme {uri.split('://', 1)[0] + '://'!r} is not "
            f"supported; use one of {', '.join(SCHEMES)} or a local directory",
            field="artifact_uri",
        )
    return LocalArtifactStore(uri)
