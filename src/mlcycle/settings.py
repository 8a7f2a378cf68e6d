"""Typed settings: the only reader of ``MLCYCLE_*`` environment variables.

>>> s = Settings.from_env({"MLCYCLE_TRACKING_URI": "sqlite:////tmp/x.db"})
>>> s.tracking_uri
'sqlite:////tmp/x.db'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mlcycle.errors import InvalidInputError

DEFAULT_HOME = ".mlcycle"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where mlcycle keeps its metadata and artifacts.

    ``tracking_uri``: ``sqlite:///path.db``, ``postgresql+psycopg://user@host/db`` or (with
    a server) ``http(s)://host:port``. A bare filesystem path means SQLite at that path.
    ``artifact_uri``: a local directory (or ``file://`` URI).
    """

    tracking_uri: str
    artifact_uri: str
    token: str | None = None
    auth: bool = False

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
    ) -> Settings:
        """Read ``MLCYCLE_TRACKING_URI``, ``MLCYCLE_ARTIFACT_URI``, ``MLCYCLE_TOKEN`` (the
        remote client's bearer token) and ``MLCYCLE_AUTH`` (``1``/``true``: a server built
        from these settings requires tokens).

        Defaults: SQLite at ``./.mlcycle/mlcycle.db`` and artifacts in ``./.mlcycle/artifacts``,
        relative to ``cwd`` (the current directory when not given).
        """
        env = os.environ if environ is None else environ
        base = (cwd or Path.cwd()) / DEFAULT_HOME
        tracking = env.get("MLCYCLE_TRACKING_URI") or f"sqlite:///{base / 'mlcycle.db'}"
        artifacts = env.get("MLCYCLE_ARTIFACT_URI") or str(base / "artifacts")
        return cls(
            tracking_uri=normalize_tracking_uri(tracking),
            artifact_uri=artifacts,
            token=env.get("MLCYCLE_TOKEN") or None,
            auth=env.get("MLCYCLE_AUTH", "").strip().lower() in ("1", "true", "yes", "on"),
        )

    def with_overrides(
        self, *, tracking_uri: str | None = None, artifact_uri: str | None = None
    ) -> Settings:
        """Return a copy with the given values replaced (None keeps the current one)."""
        return replace(
            self,
            tracking_uri=normalize_tracking_uri(tracking_uri or self.tracking_uri),
            artifact_uri=artifact_uri or self.artifact_uri,
        )

    @property
    def is_remote(self) -> bool:
        """True when the tracking URI names an HTTP server."""
        return self.tracking_uri.startswith(("http://", "https://"))


_SCHEMES = ("sqlite://", "postgresql://", "postgresql+psycopg://", "http://", "https://")


def normalize_tracking_uri(uri: str) -> str:
    """Accept a supported URI, or a plain path that means SQLite; reject anything else."""
    uri = uri.strip()
    if not uri:
        raise InvalidInputError("tracking URI must not be empty", field="tracking_uri")
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg://" + uri[len("postgresql://") :]
    if uri.startswith("postgres://"):
        return "postgresql+psycopg://" + uri[len("postgres://") :]
    if uri.startswith(_SCHEMES):
        return uri
    if "://" in uri:
        scheme = uri.split("://", 1)[0]
        raise InvalidInputError(
            f"tracking URI scheme {scheme!r} is not supported; use sqlite:///, "
            "postgresql+psycopg://, http:// or https://",
            field="tracking_uri",
        )
    return f"sqlite:///{Path(uri).expanduser().resolve()}"
