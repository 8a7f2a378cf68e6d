"""Options of a model-serving process (the deployment's own options are
:class:`~mlcycle.entities.deployments.ServingOptions`, stored with it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import orjson

from mlcycle.errors import InvalidInputError

MiB = 1 << 20

#: How ``serve`` hands the serving options to its worker processes.
WORKER_OPTIONS_ENV = "MLCYCLE_SERVING_OPTIONS"


@dataclass(frozen=True, kw_only=True)
class ServingConfig:
    """How one serving process behaves, whatever it serves.

    ``poll_interval_s``: how often the store is read for a new deployment revision or a
    moved alias. ``canary_interval_s``: how often the canary's guards are judged.
    ``log_*``: the prediction log's flush thresholds and queue bound (rows).
    ``recent_requests``: how many request IDs are remembered for feedback.
    ``trusted``: types trusted when loading models (see ``mlcycle.models.load``).
    ``max_body_bytes``: largest request body; a larger one is answered 413, checked on
    ``content-length`` and again while a chunked body streams in (never read whole first).
    ``graceful_shutdown_s``: on SIGTERM or Ctrl-C, how long requests in flight get to
    finish (new connections are refused at once); then the prediction log and the
    metrics are flushed and the process exits.
    """

    poll_interval_s: float = 1.0
    canary_interval_s: float = 5.0
    log_flush_rows: int = 10_000
    log_flush_interval_s: float = 5.0
    log_max_queued_rows: int = 200_000
    recent_requests: int = 100_000
    max_body_bytes: int = 64 * MiB
    max_shadow_queue: int = 1_000
    trusted: tuple[str, ...] = ()
    log_level: str = "info"
    graceful_shutdown_s: float = 10.0

    def __post_init__(self) -> None:
        for name in ("poll_interval_s", "canary_interval_s", "log_flush_interval_s"):
            if getattr(self, name) <= 0:
                raise InvalidInputError(f"{name} must be positive", field=name)
        for name in ("log_flush_rows", "log_max_queued_rows", "recent_requests", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be at least 1", field=name)
        if self.graceful_shutdown_s < 0:
            raise InvalidInputError(
                "graceful_shutdown_s must not be negative", field="graceful_shutdown_s"
            )
        object.__setattr__(self, "trusted", tuple(self.trusted))

    def to_json(self) -> str:
        return orjson.dumps(dataclasses.asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str | None) -> ServingConfig:
        return cls(**orjson.loads(text)) if text else cls()
