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
    #: the secret that signs audit checkpoints (``MLCYCLE_AUDIT_KEY``; see
    #: :mod:`mlcycle.governance.anchors`)
    audit_key: str | None = None
    #: the key that encrypts secrets at rest, such as webhook signing secrets
    #: (``MLCYCLE_SECRET_KEY``), and the keys it replaced, still used to decrypt
    #: (``MLCYCLE_SECRET_KEYS_OLD``, comma-separated; see :mod:`mlcycle.store.sql.secrets`)
    secret_key: str | None = None
    old_secret_keys: tuple[str, ...] = ()
    #: how long a run's background writer keeps retrying a batch the server does not
    #: take (``MLCYCLE_WRITER_RETRY_S``), and its longest pause between tries
    #: (``MLCYCLE_WRITER_BACKOFF_MAX_S``)
    writer_retry_s: float = 10.0
    writer_backoff_max_s: float = 2.0

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
    ) -> Settings:
        """Read ``MLCYCLE_TRACKING_URI``, ``MLCYCLE_ARTIFACT_URI``, ``MLCYCLE_TOKEN`` (the
        remote client's bearer token), ``MLCYCLE_AUTH`` (``1``/``true``: a server built
        from these settings requires tokens), ``MLCYCLE_AUDIT_KEY``,
        ``MLCYCLE_SECRET_KEY``, ``MLCYCLE_SECRET_KEYS_OLD``, ``MLCYCLE_WRITER_RETRY_S`` and
        ``MLCYCLE_WRITER_BACKOFF_MAX_S``.

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
            audit_key=env.get("MLCYCLE_AUDIT_KEY") or None,
            secret_key=env.get("MLCYCLE_SECRET_KEY") or None,
            old_secret_keys=tuple(
                k.strip() for k in env.get("MLCYCLE_SECRET_KEYS_OLD", "").split(",") if k.strip()
            ),
            writer_retry_s=_seconds(env, "MLCYCLE_WRITER_RETRY_S", 10.0),
            writer_backoff_max_s=_seconds(env, "MLCYCLE_WRITER_BACKOFF_MAX_S", 2.0),
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


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1e9:
        raise InvalidInputError(f"{name} must be a positive number of seconds", field=name)
    return value


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
