"""Options of the tracking server process (where it listens and its limits).

The store and artifact locations are :class:`mlcycle.Settings`; these are the server's own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import orjson

from mlcycle.errors import InvalidInputError

MiB = 1 << 20
_SCHEMES = ("file://", "s3://")

#: How ``serve`` hands options to its worker processes (each builds its app from them).
WORKER_OPTIONS_ENV = "MLCYCLE_SERVER_OPTIONS"


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Limits and behaviour of one server.

    ``max_body_bytes``: largest request body (JSON and metric batches); larger ones get 413.
    ``max_artifact_bytes``: largest artifact upload, None for no limit (uploads stream to
    the artifact store, never into memory).
    ``graceful_shutdown_s``: how long a stopping server lets in-flight requests finish.
    """

    max_body_bytes: int = 64 * MiB
    max_artifact_bytes: int | None = None
    graceful_shutdown_s: float = 30.0
    log_level: str = "info"
    #: require a token on every route but /health and /ready (``mlcycle server --auth``)
    auth: bool = False
    #: where MLflow's artifact proxy keeps files outside any run, laid out as MLflow's
    #: ``--artifacts-destination`` (a folder or s3:// URI); None: the artifact store's mlflow/
    mlflow_artifacts_destination: str | None = None

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1:
            raise InvalidInputError("max_body_bytes must be positive", field="max_body_bytes")
        if self.max_artifact_bytes is not None and self.max_artifact_bytes < 1:
            raise InvalidInputError(
                "max_artifact_bytes must be positive or None", field="max_artifact_bytes"
            )
        destination = self.mlflow_artifacts_destination
        if destination is not None and (
            not destination or ("://" in destination and not destination.startswith(_SCHEMES))
        ):
            raise InvalidInputError(
                f"artifacts destination {destination!r}: give a folder, a file:// or an s3:// URI",
                field="artifacts_destination",
            )

    def to_json(self) -> str:
        return orjson.dumps(dataclasses.asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str | None) -> ServerConfig:
        return cls(**orjson.loads(text)) if text else cls()
