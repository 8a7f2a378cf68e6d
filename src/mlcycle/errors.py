"""The one exception hierarchy of mlcycle.

Every error the public API raises is an :class:`MlcycleError`; callers catch by class::

    MlcycleError
    ├── NotFoundError              an ID or name that does not exist
    │   └── ArtifactNotFoundError  an artifact path that does not exist
    ├── AlreadyExistsError         a unique name or key taken already
    ├── InvalidInputError          a value breaks a rule (names the field and the rule)
    │   ├── FilterSyntaxError      a search filter that does not parse (names the position)
    │   ├── ValidationFailedError  data broke its validation rules and was refused
    │   ├── UntrustedTypesError    a saved model holds types not trusted for loading
    │   └── CapabilityUnavailableError  the backend does not offer this capability
    ├── ConflictError              a valid request that contradicts the stored state
    │   ├── PromotionRefusedError  a model version failed its promotion gates
    │   └── ModelRetiredError      the model version was retired and serves no more
    ├── AuthenticationError        missing, malformed, expired or revoked credentials
    │   └── TooManyAttemptsError   too many failed logins: wait ``retry_after_s``
    ├── PermissionDeniedError      the caller may not do this
    │   └── ApprovalRequiredError  a protected change needs a second person's approval
    ├── PredictionFailedError      the model raised while predicting (names the rows)
    ├── StoreError                 the store cannot be reached or is not usable
    │   ├── SchemaOutdatedError    the store needs ``mlcycle db upgrade``
    │   └── ArtifactStoreError     the artifact store (a bucket) refused or did not answer
    └── RemoteError                a tracking server failed or could not be reached

Edges (CLI, HTTP server) translate these classes into exit codes and status codes in one
table each; the library itself never exits the process.
"""

from __future__ import annotations

from typing import Any


class MlcycleError(Exception):
    """Root of every error mlcycle raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFoundError(MlcycleError):
    """The experiment, run, artifact or other object named does not exist."""


class ArtifactNotFoundError(NotFoundError):
    """No artifact is stored at the path asked for."""


class AlreadyExistsError(MlcycleError):
    """An object with this unique name or key exists already."""


class InvalidInputError(MlcycleError):
    """A value breaks a rule; the message names the field and the rule."""


class FilterSyntaxError(InvalidInputError):
    """A search filter or order-by clause does not parse.

    ``position`` is the 0-based character offset where parsing failed.
    """

    def __init__(self, message: str, *, position: int, field: str | None = "filter") -> None:
        super().__init__(message, field=field)
        self.position = position


class ValidationFailedError(InvalidInputError):
    """Data broke its validation rules and was refused (nothing was stored).

    ``report`` is the :class:`~mlcycle.entities.ValidationReport` saying which rules failed
    and on which rows.
    """

    def __init__(self, message: str, *, report: Any, field: str | None = "rules") -> None:
        super().__init__(message, field=field)
        self.report = report


class UntrustedTypesError(InvalidInputError):
    """A saved model holds types outside the trusted set; loading it could run their code.

    ``types`` lists the fully qualified type names still untrusted; pass the ones you
    trust as ``trusted=[...]`` to load the model (``--trust TYPE`` on the command line:
    :meth:`cli_message` says so).
    """

    def __init__(self, message: str, *, types: list[str], field: str | None = "trusted") -> None:
        self.reason = message
        super().__init__(f"{message}; if you trust them, pass trusted={types!r}", field=field)
        self.types = types

    def cli_message(self) -> str:
        """The message with the command line's spelling: ``--trust TYPE`` for each type."""
        flags = " ".join(f"--trust {name}" for name in self.types)
        return f"{self.reason}; if you trust them, pass {flags}"


class CapabilityUnavailableError(InvalidInputError):
    """The backend behind the tracking URI does not offer this capability (a server that
    does not serve the model registry, say); the message names the capability and the
    URI. :meth:`mlcycle.backends.Backend.supports` asks without raising."""

    def __init__(self, message: str, *, capability: str = "", field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.capability = capability


class ConflictError(MlcycleError):
    """The request is well formed but contradicts what is stored (e.g. a param's value)."""


class PromotionRefusedError(ConflictError):
    """A model version failed one or more promotion gates; the alias did not move.

    ``results`` holds every gate's :class:`~mlcycle.entities.GateResult` (also stored with
    the version); the message lists every failed gate and why.
    """

    def __init__(self, message: str, *, results: list[Any], field: str | None = "gates") -> None:
        super().__init__(message, field=field)
        self.results = results


class ModelRetiredError(ConflictError):
    """The model version was retired: it is kept on record but never serves again.

    ``reason`` is the retirement's reason.
    """

    def __init__(
        self, message: str, *, reason: str | None = None, field: str | None = "version"
    ) -> None:
        super().__init__(message, field=field)
        self.reason = reason


class AuthenticationError(MlcycleError):
    """No credentials, or credentials that are malformed, expired or revoked."""


class TooManyAttemptsError(AuthenticationError):
    """Too many failed logins for this user or from this address; ``retry_after_s`` says
    how long to wait (HTTP 429 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after_s: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s


class PermissionDeniedError(MlcycleError):
    """The caller is known but may not do this (their role or grants do not allow it)."""


class ApprovalRequiredError(PermissionDeniedError):
    """A protected change (a protected alias, a rollout to a protected deployment) needs
    an approval by a second person; the message says how to request one."""


class PredictionFailedError(MlcycleError):
    """The model raised while predicting; the message names the rows (a batch chunk) and
    the model's own error. ``chunk`` and ``rows`` (first, last) locate it when known."""

    def __init__(
        self,
        message: str,
        *,
        chunk: int | None = None,
        rows: tuple[int, int] | None = None,
        field: str | None = "model",
    ) -> None:
        super().__init__(message, field=field)
        self.chunk = chunk
        self.rows = rows


class StoreError(MlcycleError):
    """The metadata store cannot be reached or used."""


class SchemaOutdatedError(StoreError):
    """The store's schema is older than this version of mlcycle expects."""


class ArtifactStoreError(StoreError):
    """The artifact store cannot be used: a missing bucket, refused credentials, or an
    endpoint that does not answer. The message names the artifact URI."""


class RemoteError(MlcycleError):
    """A tracking server answered with a failure or could not be reached."""


__all__ = [
    "AlreadyExistsError",
    "ApprovalRequiredError",
    "ArtifactNotFoundError",
    "AuthenticationError",
    "ConflictError",
    "FilterSyntaxError",
    "InvalidInputError",
    "MlcycleError",
    "ModelRetiredError",
    "NotFoundError",
    "PermissionDeniedError",
    "PredictionFailedError",
    "PromotionRefusedError",
    "RemoteError",
    "SchemaOutdatedError",
    "StoreError",
    "TooManyAttemptsError",
    "UntrustedTypesError",
    "ValidationFailedError",
]
